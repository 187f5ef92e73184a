"""Send three messages, then consume them with a push consumer.

    python send_and_consume.py [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
"""
import os
import sys
import threading

import petrel

name_servers = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PETREL_NAMESRV", "127.0.0.1:9876")
topic = f"ExampleGreetings_{os.getpid()}"  # a fresh topic per run

with petrel.Producer(name_servers, group="example-producer") as producer:
    for index in range(3):
        result = producer.send(topic, f"hello {index}", tags="greeting", keys=f"order-{index}",
                               properties={"language": "python"})
        print(f"sent hello {index} as {result.message_id} to queue {result.queue_id}")

received = []
lock = threading.Lock()
all_received = threading.Event()


def on_message(message: petrel.ReceivedMessage) -> petrel.ConsumeResult:
    # Runs on a library thread. Raising here would log the error and redeliver the message later.
    with lock:
        received.append(message.text)
        print(f"received {message.text} tags={message.tags} keys={message.keys} "
              f"language={message.get_property('language')}", flush=True)
        if len(received) == 3:
            all_received.set()
    return petrel.ConsumeResult.SUCCESS


consumer = petrel.PushConsumer(name_servers, f"example-consumer-{os.getpid()}", listener=on_message,
                               consume_from=petrel.ConsumeFrom.FIRST_OFFSET)
consumer.subscribe(topic, "greeting")
with consumer:
    if not all_received.wait(timeout=60):
        sys.exit(f"send_and_consume: timed out, received {received}")
print("send_and_consume: OK")
