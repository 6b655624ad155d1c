/** Every ordered pair of three nodes (by index): who opens or submits, and who is asked next. */
export const ORDERED_NODE_PAIRS: readonly (readonly [number, number])[] = [
  [0, 1],
  [1, 2],
  [2, 0],
  [0, 2],
  [1, 0],
  [2, 1],
];
