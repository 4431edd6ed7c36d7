// The load generator's own process: the benchmark runs its closed-loop clients here, apart from the server
// under test, so that the clients' work never competes with the server's event loop (on 2 cores it would,
// and it would favour whichever design does less per request). Reads its options as JSON from argv[2] and
// prints the LoadResult as JSON on stdout.

import { runClosedLoop, type LoadOptions } from "./load";

const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions;
const result = await runClosedLoop(options);
process.stdout.write(JSON.stringify(result));
