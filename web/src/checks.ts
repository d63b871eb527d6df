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

// Other identity documents, mirroring shared/src/petitions/identifiers.py (same rules, same
// messages): numbers are compared upper-cased and without spaces.
export type IdKind =
  | 'resident_id'
  | 'passport'
  | 'hk_macau_permit'
  | 'taiwan_permit'
  | 'permanent_residence_id'
  | 'credit_code'
  | 'anonymous'

export const ID_KINDS: { value: IdKind; label: string }[] = [
  { value: 'resident_id', label: '居民身份证 Resident ID' },
  { value: 'passport', label: '护照 Passport' },
  { value: 'hk_macau_permit', label: '港澳居民来往内地通行证 HK/Macau permit' },
  { value: 'taiwan_permit', label: '台湾居民来往大陆通行证 Taiwan permit' },
  { value: 'permanent_residence_id', label: '外国人永久居留身份证 Permanent residence ID' },
  { value: 'credit_code', label: '统一社会信用代码（单位）Organisation credit code' },
  { value: 'anonymous', label: '匿名（仅来信、网上检举控告）Anonymous accusation' },
]

/** Upper case, no spaces: how a number is written on the form is not part of it. */
export function canonical(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase()
}

function gb11643Check(first17: string): string {
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(first17[i]), 0)
  return CHECK[sum % 11]
}

export function passportError(value: string): string | null {
  const v = canonical(value)
  if (!/^[A-Z0-9]{5,20}$/.test(v)) return '护照号须为5至20位字母或数字 / a passport number has 5 to 20 letters or digits'
  return null
}

// ISO 3166-1 alpha-3, the 249 officially assigned codes (as identifiers.py keeps them).
const ISO3166_ALPHA3 = new Set(
  `ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
  BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
  COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
  ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
  GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
  JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
  MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
  NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
  PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
  SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
  UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE`.split(/\s+/),
)

export function countryError(value: string): string | null {
  if (ISO3166_ALPHA3.has(value.trim().toUpperCase())) return null
  return '签发国须为 ISO 3166 三位字母代码，如 USA、GBR、JPN / the issuing country must be an ISO 3166 alpha-3 code, e.g. USA, GBR, JPN'
}

export function hkMacauPermitError(value: string): string | null {
  if (/^[HM](\d{8}|\d{10})$/.test(canonical(value))) return null
  return '港澳居民来往内地通行证号须为 H 或 M 加8位或10位数字 / a Hong Kong or Macau residents\' permit number is H or M followed by 8 or 10 digits'
}

export function taiwanPermitError(value: string): string | null {
  if (/^\d{8}$/.test(canonical(value))) return null
  return '台湾居民来往大陆通行证号须为8位数字 / a Taiwan residents\' permit number has 8 digits'
}

export function permanentResidenceIdError(value: string): string | null {
  const v = canonical(value)
  if (v.length === 18 && v[0] === '9') {
    if (!/^\d{17}[\dX]$/.test(v))
      return '永久居留身份证号（2023版）须为9开头的18位（末位可为X） / a permanent residence ID number (2023 card) has 18 characters beginning with 9, the last may be X'
    if (gb11643Check(v.slice(0, 17)) !== v[17])
      return '永久居留身份证号校验位错误，请核对 / the permanent residence ID\'s check character is wrong: check the number'
    return null
  }
  if (/^[A-Z]{3}\d{12}$/.test(v)) return null
  return '永久居留身份证号须为9开头的18位（2023版）或3位字母加12位数字（旧版） / a permanent residence ID number has 18 characters beginning with 9 (2023 card) or 3 letters and 12 digits (older card)'
}

// GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^i mod 31, check = 31 - sum mod 31.
const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'

export function creditCodeCheck(first17: string): string {
  let total = 0
  let weight = 1
  for (const ch of first17) {
    total += CREDIT_ALPHABET.indexOf(ch) * weight
    weight = (weight * 3) % 31
  }
  return CREDIT_ALPHABET[(31 - (total % 31)) % 31]
}

export function creditCodeError(value: string): string | null {
  const v = canonical(value)
  if (v.length !== 18 || [...v].some((ch) => !CREDIT_ALPHABET.includes(ch)))
    return '统一社会信用代码须为18位数字或大写字母（不含 I、O、S、V、Z） / a unified social credit code has 18 digits or capital letters (no I, O, S, V, Z)'
  if (creditCodeCheck(v.slice(0, 17)) !== v[17])
    return '统一社会信用代码校验位错误，请核对 / the credit code\'s check character is wrong: check the code'
  return null
}

/** Why the number is wrong for its kind, or null (empty is left to the "required" rule). */
export function documentError(kind: IdKind, value: string): string | null {
  if (!value.trim()) return null
  switch (kind) {
    case 'resident_id':
      return residentIdError(canonical(value))
    case 'passport':
      return passportError(value)
    case 'hk_macau_permit':
      return hkMacauPermitError(value)
    case 'taiwan_permit':
      return taiwanPermitError(value)
    case 'permanent_residence_id':
      return permanentResidenceIdError(value)
    case 'credit_code':
      return creditCodeError(value)
    default:
      return null
  }
}
