// The bundles' entry points under src/, for the npm package's build (build.mjs) and the single
// executable's (build-exe.mjs). The worker threads' must be src/package-files.ts's WORKER_ENTRIES,
// which starts them (a unit test checks that they are).
export const WORKER_ENTRIES = ['collect/worker', 'serve/password-worker'];
