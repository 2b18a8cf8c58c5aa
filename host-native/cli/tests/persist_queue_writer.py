"""Writes queues with the real persist-queue (1.1.0 from PyPI) for `pq
import-persist-queue`'s test, and what each should import as.

usage: python persist_queue_writer.py OUT_DIR

For each serializer (pickle, json, msgpack, cbor2): a file `Queue` (chunk
size 3, two items consumed) and an SQLite database holding one queue of
every kind, some ack-queue items in flight, acked and failed. Writes
OUT_DIR/expected.json: per queue, its path, kind, name and the items in id
order as JSON values with their status and priority.
"""

import json
import os
import sys

import persistqueue
from persistqueue import serializers
from persistqueue.serializers import cbor2 as ser_cbor2
from persistqueue.serializers import json as ser_json
from persistqueue.serializers import msgpack as ser_msgpack
from persistqueue.serializers import pickle as ser_pickle

SERIALIZERS = {"pickle": ser_pickle, "json": ser_json, "msgpack": ser_msgpack, "cbor": ser_cbor2}

ITEMS = [
    {"job": 1, "tags": ["a", "b"], "ok": True},
    "plain text",
    42,
    -7.5,
    None,
    ["nested", {"x": [1, 2, {"y": "z"}]}],
    {"unicode": "żółw ☃"},
]


def file_queue(out, name, ser):
    path = os.path.join(out, name)
    q = persistqueue.Queue(path, chunksize=3, serializer=ser)
    for item in ITEMS:
        q.put(item)
    q.get()
    q.get()
    q.task_done()
    del q
    return {"path": path, "kind": "file", "name": "default",
            "items": [{"item": i, "status": "ready", "priority": 0} for i in ITEMS[2:]]}


def sqlite_queues(out, name, ser):
    path = os.path.join(out, name)
    expected = []

    def plain(cls, kind, qname, items, taken):
        q = cls(path, name=qname, serializer=ser)
        for i in items:
            q.put(i)
        for _ in range(taken):
            q.get()
        q.close() if hasattr(q, "close") else None
        return items

    rest = plain(persistqueue.SQLiteQueue, "fifo", "fifo", ITEMS, 2)[2:]
    expected.append({"kind": "fifo", "name": "fifo", "items": [{"item": i, "status": "ready", "priority": 0} for i in rest]})
    rest = plain(persistqueue.FILOSQLiteQueue, "filo", "filo", ITEMS, 2)[:-2]
    expected.append({"kind": "filo", "name": "filo", "items": [{"item": i, "status": "ready", "priority": 0} for i in rest]})
    q = persistqueue.UniqueQ(path, name="uniq", serializer=ser)
    for i in ["a", "b", "a", "c", "b"]:
        q.put(i)
    expected.append({"kind": "unique", "name": "uniq", "items": [{"item": i, "status": "ready", "priority": 0} for i in ["a", "b", "c"]]})
    q = persistqueue.PriorityQueue(path, name="prio", serializer=ser)
    for i, p in [("low", 9), ("high", 1), ("mid", 5)]:
        q.put(i, priority=p)
    expected.append({"kind": "priority", "name": "prio",
                     "items": [{"item": i, "status": "ready", "priority": p} for i, p in [("low", 9), ("high", 1), ("mid", 5)]]})
    for cls, kind, qname in [(persistqueue.SQLiteAckQueue, "ack", "ack"),
                             (persistqueue.FILOSQLiteAckQueue, "ack-filo", "ackfilo"),
                             (persistqueue.UniqueAckQ, "ack-unique", "ackuniq")]:
        q = cls(path, name=qname, serializer=ser, auto_resume=False)
        items = [{"n": n} for n in range(6)]
        for i in items:
            q.put(i)
        got = [q.get() for _ in range(4)]
        q.ack(got[0])
        q.ack_failed(got[1])
        q.nack(got[2])
        # got[3] stays in flight.
        status = {}
        for g, s in zip(got, ["acked", "failed", "ready", "unacked"]):
            status[g["n"]] = s
        expected.append({"kind": kind, "name": qname,
                         "items": [{"item": i, "status": status.get(i["n"], "ready"), "priority": 0} for i in items]})
    for e in expected:
        e["path"] = os.path.join(path, "data.db")
    return expected


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expected = []
    for sname, ser in SERIALIZERS.items():
        expected.append(dict(file_queue(out, "file_" + sname, ser), serializer=sname))
        for e in sqlite_queues(out, "sqlite_" + sname, ser):
            expected.append(dict(e, serializer=sname))
    # Pickled objects beyond plain data: a per-item error, the bytes kept.
    import datetime
    q = persistqueue.SQLiteQueue(os.path.join(out, "pickle_objects"), name="objs")
    q.put({"plain": 1})
    q.put(datetime.datetime(2026, 12, 3, 12, 0))
    q.put("after")
    expected.append({"path": os.path.join(out, "pickle_objects", "data.db"), "kind": "fifo", "name": "objs",
                     "serializer": "pickle", "rejected": [2],
                     "items": [{"item": {"plain": 1}, "status": "ready", "priority": 0},
                               {"item": "after", "status": "ready", "priority": 0}]})
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
