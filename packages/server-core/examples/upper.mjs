// A handler module for both comm servers: the same file runs on each.
//   comm-server-seq --handler node_modules/@comm/server-core/examples/upper.mjs
//   comm-server-threaded --handler node_modules/@comm/server-core/examples/upper.mjs
// `setup` runs once per connection before its first line (on the threaded server, on the thread
// that serves it); `context.state` is that connection's own object, like the attributes of the
// chapter's ClientThread.
export function setup(context) {
  context.state.lines = 0;
}

export function handler(line, context) {
  context.state.lines += 1;
  return `${context.state.lines}: ${line.toUpperCase()}`;
}
