// Test data shared by the client's tests and the integration tests.

/** Lines that exercise the codec: 1- to 4-byte characters, an empty line (R5), separators that are data (R4). */
export function sampleLines(count: number): string[] {
  const pieces = ['a', 'é', '€', '😀', '𝄞', '\u2028', ' ', 'ÿ', 'ok'];
  return Array.from({ length: count }, (_, index) => {
    if (index % 50 === 7) return '';
    let line = `#${index} `;
    for (let k = 0; k < index % 23; k++) line += pieces[(index * 7 + k) % pieces.length];
    return line;
  });
}
