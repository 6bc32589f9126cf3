// Worker threads do not inherit the parent's TypeScript loader on Node 20: register tsx here, then run the
// TypeScript worker named in workerData.script (or argv[2] when run as a process).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
const script = workerData?.script ?? process.argv[2];
await import(script.startsWith('file:') ? script : pathToFileURL(script).href);
