export async function prepareLinux() { throw new Error("not yet"); }
export async function runLinux() {}
