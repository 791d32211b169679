// placeholder; replaced in the outbox work
const VERSION = "__VERSION__";
const PRECACHE = [/*PRECACHE*/];
