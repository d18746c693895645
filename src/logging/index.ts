/**
 * `logging`: the part of Python's logging module that threaded programs use, as one namespace
 * object (`import { logging } from "threading"; logging.basicConfig({ level: logging.DEBUG })`).
 */
export * as logging from "./logging.js";
