// petrel-namesrv: the Petrel name server, a drop-in for RocketMQ 4.x's `mqnamesrv`.
// The command is in NameServerCommand.swift; top-level code cannot use `@main`.
await NameServerCommand.launch()
