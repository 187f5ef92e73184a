print("petrel-broker: placeholder")
