// A handler module for @comm/server-threaded: each worker thread imports it.
//   comm-server-threaded --handler ./examples/upper.mjs
// `setup` runs once per connection, on the thread that serves it; `context.state` is that
// connection's own object, like the attributes of the chapter's ClientThread.
export function setup(context) {
  context.state.lines = 0;
}

export function handler(line, context) {
  context.state.lines += 1;
  return `${context.state.lines}: ${line.toUpperCase()}`;
}
