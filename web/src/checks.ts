// Instant checks at the desk, the same rules intake applies (services/intake/.../commands.py), so
// the registrar hears about a mistyped number before the petitioner has left the counter.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

/** Why `value` is not a valid resident ID number (GB 11643), or null. */
export function residentIdError(value: string): string | null {
  const v = value.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(v)) return '身份证号须为18位（末位可为X） / 18 characters, the last may be X'
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(v[i]), 0)
  if (CHECK[sum % 11] !== v[17]) return '身份证号校验位错误，请核对 / the check character is wrong'
  return null
}

/** Why `value` is not a mainland mobile or landline number, or null (empty is allowed). */
export function phoneError(value: string): string | null {
  let digits = value.replace(/\D/g, '')
  if (!digits) return null
  if (digits.startsWith('86') && digits.length === 13) digits = digits.slice(2)
  if ((digits.length === 11 && digits.startsWith('1')) || (digits.startsWith('0') && digits.length >= 10 && digits.length <= 12))
    return null
  return '电话号码格式不对 / not a mobile (11 digits) or landline (area code + number)'
}
