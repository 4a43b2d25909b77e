// Base of the network stack's errors (net/): `name` is the class name on every engine.

export class NetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
