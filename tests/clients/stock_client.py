"""nfscoped through stock Python gRPC clients (grpcio, grpcio-reflection, grpcio-health-checking),
as a user would write them: `unix:` + the socket path, no authority override.

    stock_client.py STUBS_DIR SOCKET COMMAND [ARGS]

STUBS_DIR holds the modules grpc_tools.protoc generated from proto/nfscope/v1/nfscope.proto.
Every command prints one result per line and flushes, so the test can follow a stream.
"""
import sys

import grpc

sys.path.insert(0, sys.argv[1])
target = "unix:" + sys.argv[2]
cmd = sys.argv[3]
args = sys.argv[4:]


def out(*a):
    print(*a, flush=True)


channel = grpc.insecure_channel(target)

if cmd == "health":
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(channel)
    for service in args:
        r = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        out(service or '""', health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))

elif cmd == "health-watch":
    # Follows the health of one service until the server goes away.
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(channel)
    try:
        for r in stub.Watch(health_pb2.HealthCheckRequest(service=args[0])):
            out(health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))
    except grpc.RpcError as e:
        out("end", e.code().name)
    else:
        out("end OK")

elif cmd == "reflect-v1alpha":
    # The stock reflection client (grpcio-reflection speaks v1alpha).
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    db = ProtoReflectionDescriptorDatabase(channel)
    for s in db.get_services():
        out("service", s)
    pool = DescriptorPool(db)
    svc = pool.FindServiceByName("nfscope.v1.Nfscope")
    for m in svc.methods:
        out("method", m.name)

elif cmd == "reflect-v1":
    # v1 is wire-identical to v1alpha: the same messages on the v1 method.
    from grpc_reflection.v1alpha import reflection_pb2

    call = channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    for r in call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10):
        for s in r.list_services_response.service:
            out("service", s.name)

elif cmd == "get-ruleset":
    # GetRuleset in gzip both ways.
    from nfscope.v1 import nfscope_pb2, nfscope_pb2_grpc

    stub = nfscope_pb2_grpc.NfscopeStub(channel)
    r = stub.GetRuleset(
        nfscope_pb2.GetRulesetRequest(), timeout=30, compression=grpc.Compression.Gzip
    )
    out("rules", r.rules)
    sys.stdout.write(r.text)
    sys.stdout.flush()

elif cmd == "replay":
    # Watch from since_id: every stored record after it must arrive, in order, after the
    # snapshot marker. The stored ids come from History.
    from nfscope.v1 import nfscope_pb2, nfscope_pb2_grpc

    since = int(args[0])
    stub = nfscope_pb2_grpc.NfscopeStub(channel)
    h = stub.History(nfscope_pb2.HistoryRequest(limit=1_000_000), timeout=30)
    want = [r.id for r in h.records if r.id > since]
    out("stored", len(want))
    if not want:
        # Not stored yet: nothing to wait for (the caller asks again).
        sys.exit(0)
    got = []
    marker = False
    stream = stub.Watch(nfscope_pb2.WatchRequest(since_id=since), timeout=60)
    try:
        for ev in stream:
            kind = ev.WhichOneof("event")
            if kind == "snapshot" and not got:
                marker = True
            elif kind == "record":
                got.append(ev.record.id)
                if len(got) == len(want):
                    break
            else:
                out("unexpected", kind)
    except grpc.RpcError as e:
        out("error", e.code().name, e.details())
    stream.cancel()
    out("marker", marker)
    out("replayed", len(got))
    out("in order", got == want)

elif cmd == "watch":
    # A live Watch until the stream ends; prints how it ended.
    from nfscope.v1 import nfscope_pb2, nfscope_pb2_grpc

    stub = nfscope_pb2_grpc.NfscopeStub(channel)
    try:
        for ev in stub.Watch(nfscope_pb2.WatchRequest()):
            out(ev.WhichOneof("event"))
    except grpc.RpcError as e:
        out("end", e.code().name)
    else:
        out("end OK")

elif cmd == "watch-stalled":
    # Watch from since_id that reads the start marker, then nothing until a line arrives on
    # stdin (meanwhile the daemon fills the windows); then reads the rest and prints how
    # many records arrived and how the stream ended.
    from nfscope.v1 import nfscope_pb2, nfscope_pb2_grpc

    # Without BDP probing the client keeps its initial windows (64 KiB a stream): with it, on a
    # local socket, C-core grows them to hold megabytes nobody has read.
    channel = grpc.insecure_channel(target, options=[("grpc.http2.bdp_probe", 0)])
    stub = nfscope_pb2_grpc.NfscopeStub(channel)
    call = stub.Watch(nfscope_pb2.WatchRequest(since_id=int(args[0])))
    out(next(call).WhichOneof("event"))
    sys.stdin.readline()
    n = 0
    try:
        for ev in call:
            if ev.WhichOneof("event") == "record":
                n += 1
    except grpc.RpcError as e:
        out("records", n)
        out("end", e.code().name)
        out("details", e.details())
    else:
        out("records", n)
        out("end OK")

else:
    sys.exit("unknown command " + cmd)
