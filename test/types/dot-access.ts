// API.md: Python's `mydata.x = 1` compiles as written on a `local` (its index signature). Compiled by
// tsconfig.json only: a user's noPropertyAccessFromIndexSignature refuses it, as it refuses any
// dotted access through an index signature (such code writes `mydata["x"]`, see user-code.ts).
import { local } from "threading";

const mydata = new local();
mydata.x = 1;
mydata.conn = { open: true };
const x: number = mydata.x;
void x;
