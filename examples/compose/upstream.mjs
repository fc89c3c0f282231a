// The compose demo's upstream: echoes the request it received as JSON.
import { createServer } from 'node:http';

createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ message: 'hello from the demo upstream', method: req.method, url: req.url, headers: req.headers }, null, 2) + '\n');
}).listen(8000, '0.0.0.0');
