// Finding classes the fuzzer shows on main today that are open defects (issue #9's, or
// found by this fuzzer and reported), being fixed by their owners: the npm test slice
// reports them without failing. Remove an entry when its fix lands (the slice then fails
// if the class comes back). Anything not listed fails the slice.

export const KNOWN_CLASSES: Readonly<Record<string, string>> = {
};
