print("petrel-bench: placeholder")
