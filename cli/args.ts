// The command parser lives in cmdline/ so bench/ can use it without importing cli/ (cli sits on top).
export * from '../cmdline/args.ts';
