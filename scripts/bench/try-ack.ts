import { benchAck } from "./ack.ts";
import { benchColdStart } from "./cold-start.ts";
console.log(JSON.stringify(benchColdStart({ runs: 7 })));
console.log(JSON.stringify(await benchAck({ total: 200, parallel: 20 })));
