"""Identity documents a petitioner may register with, and the check each one carries.

Pure functions: intake validates with them, the web desk mirrors them, tests pin them. Each
returns why a value is wrong, in Chinese and English, or None; values are compared upper-cased
and without spaces (see :func:`canonical`), as the blind index normalises them.
"""

from __future__ import annotations

from enum import StrEnum


class IdKind(StrEnum):
    """证件类型: what identifies a petitioner. The value is also the blind-index kind."""

    RESIDENT_ID = "resident_id"  # 居民身份证 (GB 11643)
    PASSPORT = "passport"  # 护照 (with the issuing country)
    HK_MACAU_PERMIT = "hk_macau_permit"  # 港澳居民来往内地通行证 (回乡证)
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证 (台胞证)
    PERMANENT_RESIDENCE_ID = "permanent_residence_id"  # 外国人永久居留身份证
    CREDIT_CODE = "credit_code"  # 统一社会信用代码 (GB 32100), an organisation
    ANONYMOUS = "anonymous"  # 匿名: accusations by letter or online only

    @property
    def zh(self) -> str:
        return _ZH[self]


_ZH = {
    IdKind.RESIDENT_ID: "居民身份证",
    IdKind.PASSPORT: "护照",
    IdKind.HK_MACAU_PERMIT: "港澳居民来往内地通行证",
    IdKind.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdKind.PERMANENT_RESIDENCE_ID: "外国人永久居留身份证",
    IdKind.CREDIT_CODE: "统一社会信用代码",
    IdKind.ANONYMOUS: "匿名",
}


def canonical(value: str) -> str:
    """Upper case, no spaces: how a number is written on the form is not part of it."""
    return "".join(value.split()).upper()


# GB 11643-1999: weights 2^(17-i) mod 11 over the first 17 characters; the same check closes
# the 2023 foreigners' permanent residence ID card (GB/T 11643 style, first character 9).
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"


def gb11643_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECK[total % 11]


def resident_id_error(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID number (GB 11643), or None."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return (
            "身份证号须为18位（末位可为X） / a resident ID number has 18 characters, "
            "the last may be X"
        )
    if gb11643_check(value[:17]) != value[17]:
        return "身份证号校验位错误，请核对 / the check character is wrong: check the number"
    return None


def passport_error(value: str) -> str | None:
    """Passports differ by country: only the shape is checked (5-20 letters and digits)."""
    if not 5 <= len(value) <= 20 or not value.isascii() or not value.isalnum():
        return "护照号须为5至20位字母或数字 / a passport number has 5 to 20 letters or digits"
    return None


def country_error(value: str) -> str | None:
    if value not in ISO3166_ALPHA3:
        return (
            "签发国须为 ISO 3166 三位字母代码，如 USA、GBR、JPN / the issuing country must be "
            "an ISO 3166 alpha-3 code, e.g. USA, GBR, JPN"
        )
    return None


def hk_macau_permit_error(value: str) -> str | None:
    """回乡证: H (Hong Kong) or M (Macau) and 8 digits (10 on the older cards)."""
    if len(value) in (9, 11) and value[0] in "HM" and value[1:].isdigit() and value.isascii():
        return None
    return (
        "港澳居民来往内地通行证号须为 H 或 M 加8位或10位数字 / a Hong Kong or Macau residents' "
        "permit number is H or M followed by 8 or 10 digits"
    )


def taiwan_permit_error(value: str) -> str | None:
    """台胞证: 8 digits (the card number, not the older booklet's)."""
    if len(value) == 8 and value.isdigit() and value.isascii():
        return None
    return "台湾居民来往大陆通行证号须为8位数字 / a Taiwan residents' permit number has 8 digits"


def permanent_residence_id_error(value: str) -> str | None:
    """外国人永久居留身份证: the 2023 card (18 characters: 9, 17 digits, GB 11643 check
    character) or the 2017 card (3 letters of the nationality and 12 digits)."""
    if len(value) == 18 and value[0] == "9":
        if not value[:17].isdigit() or value[17] not in "0123456789X":
            return (
                "永久居留身份证号（2023版）须为9开头的18位（末位可为X） / a permanent residence "
                "ID number (2023 card) has 18 characters beginning with 9, the last may be X"
            )
        if gb11643_check(value[:17]) != value[17]:
            return (
                "永久居留身份证号校验位错误，请核对 / the permanent residence ID's check "
                "character is wrong: check the number"
            )
        return None
    if len(value) == 15 and value[:3].isalpha() and value[3:].isdigit() and value.isascii():
        return None
    return (
        "永久居留身份证号须为9开头的18位（2023版）或3位字母加12位数字（旧版） / a permanent "
        "residence ID number has 18 characters beginning with 9 (2023 card) or 3 letters and "
        "12 digits (older card)"
    )


# GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^i mod 31, check = 31 - sum mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_code_check(first17: str) -> str:
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w
        for ch, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_error(value: str) -> str | None:
    """Why ``value`` is not a unified social credit code (GB 32100-2015), or None."""
    if len(value) != 18 or any(ch not in CREDIT_CODE_ALPHABET for ch in value):
        return (
            "统一社会信用代码须为18位数字或大写字母（不含 I、O、S、V、Z） / a unified social "
            "credit code has 18 digits or capital letters (no I, O, S, V, Z)"
        )
    if credit_code_check(value[:17]) != value[17]:
        return (
            "统一社会信用代码校验位错误，请核对 / the credit code's check character is wrong: "
            "check the code"
        )
    return None


CHECKS = {
    IdKind.RESIDENT_ID: resident_id_error,
    IdKind.PASSPORT: passport_error,
    IdKind.HK_MACAU_PERMIT: hk_macau_permit_error,
    IdKind.TAIWAN_PERMIT: taiwan_permit_error,
    IdKind.PERMANENT_RESIDENCE_ID: permanent_residence_id_error,
    IdKind.CREDIT_CODE: credit_code_error,
}
"""Per identified kind, the check of its number (canonical form)."""

# ISO 3166-1 alpha-3, officially assigned codes (249). Kept here rather than as a dependency:
# the list changes about once a decade, and a passport's issuing country is all it is used for.
_ISO3166_ALPHA3 = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
    ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
    GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
    JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
    MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
    NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
    PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
    SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
    UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO3166_ALPHA3 = frozenset(_ISO3166_ALPHA3.split())

__all__ = [
    "CHECKS",
    "CREDIT_CODE_ALPHABET",
    "ISO3166_ALPHA3",
    "IdKind",
    "canonical",
    "country_error",
    "credit_code_check",
    "credit_code_error",
    "gb11643_check",
    "hk_macau_permit_error",
    "passport_error",
    "permanent_residence_id_error",
    "resident_id_error",
    "taiwan_permit_error",
]
