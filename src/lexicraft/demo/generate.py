"""Deterministic generator for Lexicraft's bundled demo projects.

Produces two Azure AI Language project files (``projectFileVersion`` 2022-05-01,
``stringIndexType`` Utf16CodeUnit) from hand-written templates and filler lists:

* ``data/demo-ner.json`` -- a CustomEntityRecognition project of short business
  emails, news snippets and meeting notes labelled with Person, Organization,
  City, Date, Money and Product.
* ``data/demo-classify.json`` -- a CustomSingleLabelClassification project of
  customer-support messages labelled with one of six classes.

Every fifth document is a Test document (exact 80/20 split); a sixth of the
NER name lists appears only in Test documents, so Test measures generalisation.
All content is original to this module. Documents carry their text inline in a
``text`` field (a Lexicraft extension to the Azure format). Running
``python -m lexicraft.demo.generate`` rewrites both files; the output depends
only on :data:`SEED`, so the committed files can be verified byte for byte.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 20240611
PROJECT_FILE_VERSION = "2022-05-01"
STRING_INDEX_TYPE = "Utf16CodeUnit"
LANGUAGE = "en-us"
DATA_DIR = Path(__file__).resolve().parent / "data"
NER_FILENAME = "demo-ner.json"
CLASSIFY_FILENAME = "demo-classify.json"

NER_DOC_COUNT = 300
CLASSIFY_DOCS_PER_CLASS = 50
# Every fifth document goes to Test: an exact, order-independent 80/20 split.
TEST_EVERY = 5

JsonDict = dict[str, Any]

# ---------------------------------------------------------------------------
# Filler vocabularies (invented organisations/products; real city names)
# ---------------------------------------------------------------------------

PERSONS: tuple[str, ...] = (
    "Ngozi Okafor",
    "Priya Raman",
    "Mehmet Yılmaz",  # noqa: RUF001 - Turkish dotless i is intended
    "Anaïs Moreau",
    "Björn Lindqvist",
    "Zoë Brontë",
    "José Álvarez",
    "Łukasz Żuławski",
    "山田太郎",
    "佐藤花子",
    "王芳",
    "Kenji Watanabe",
    "Olga Nowak",
    "Rafael Quintero",
    "Ingrid Solberg",
    "Tomás Herrera",
    "Fatima Benali",
    "Liam O'Connor",
    "Mary-Kate Lindgren",
    "Dmitri Volkov",
    "Aisha Rahman",
    "Chloé Martin",
    "François Dubois",
    "Søren Dahl",
    "Hannah Whitfield",
    "Marcus Bell",
    "Elena Petrova",
    "Samuel Adeyemi",
    "Grace Mwangi",
    "Oliver Hartley",
    "Yuki Tanaka",
    "Carlos Mendes",
    "Sofia Rossi",
    "Arjun Mehta",
    "Leila Haddad",
    "Nathan Brooks",
    "Isabel Fonseca",
    "Emeka Nwosu",
    "Clara Weiß",
    "Ravi Shankar Iyer",
    "Julia Kowalczyk",
    "Daniel Osei",
    "Mia Johansson",
    "Tariq Aziz",
    "Lucía Ortega",
    "Henrik Aalto",
    "Amara Diallo",
    "Patrick Gallagher",
)

ORGANIZATIONS: tuple[str, ...] = (
    "Bluefjord Analytics",
    "Quillon Systems",
    "Marrowstone Capital",
    "Tidewater Logistics",
    "Kestrel Bioworks",
    "Ironleaf Partners",
    "Halcyon Foods",
    "Northgate Insurance",
    "Vantor Robotics",
    "Cobaltline Energy",
    "Sablewood Media",
    "Pinecrest Health",
    "Orrin & Vale LLP",
    "Lumora GmbH",
    "Brightwell Mining",
    "Stellaris Freight",
    "Ærø Shipping ApS",
    "Société Lumière SA",
    "Nordlys AS",
    "Zenkai KK",
    "株式会社ミドリ",
    "Mirabel Telecom",
    "Ashgrove University",
    "Redfern Hospital",
    "Quayside Bank",
    "Oakhurst Ventures",
    "Tessellate Labs",
    "Verdant Agritech",
    "Polaris Textiles",
    "Harborview Hotels",
    "Solace Pharma",
    "Granite Peak Software",
    "Windrose Airlines",
    "Cinder Studios",
    "Helix & Co.",
    "Meridian Steelworks",
    "Falconridge Security",
    "Parallax Games",
    "Umbra Cloud Inc.",
    "Saffron Retail Group",
    "Juniper Water Authority",
    "Calloway Consulting",
)

CITIES: tuple[str, ...] = (
    "Lisbon",
    "Toronto",
    "Osaka",
    "São Paulo",
    "Zürich",
    "Kraków",
    "Reykjavík",
    "Nairobi",
    "Melbourne",
    "Chicago",
    "Seattle",
    "Dublin",
    "Rotterdam",
    "Bogotá",
    "Montréal",
    "Düsseldorf",
    "Málaga",
    "Gdańsk",
    "Ho Chi Minh City",
    "Cape Town",
    "New York",
    "San Francisco",
    "Buenos Aires",
    "Mexico City",
    "Singapore",
    "Seoul",
    "東京",
    "Lagos",
    "Accra",
    "Helsinki",
    "Tallinn",
    "Vienna",
    "Prague",
    "Boston",
    "Denver",
    "Austin",
    "Vancouver",
    "Auckland",
    "Mumbai",
    "Bengaluru",
    "Istanbul",
    "Marseille",
    "Porto",
    "Göteborg",
)

PRODUCTS: tuple[str, ...] = (
    "Nimbus X2",
    "Aurora Pro 14",
    "Helios Router 6",
    "Sparrow Mini",
    "Atlas Scanner",
    "Orbit Earbuds",
    "Ledgerly",
    "Tundra Cooler",
    "Pixelwave 4K",
    "Brightbox Hub",
    "Zephyr Fan",
    "Cobalt Drill 20V",
    "Kinetic Watch S",
    "Lumen Lamp",
    "Corvid Cam",
    "Fathom Sonar",
    "Quillpad",
    "Vireo Tablet",
    "Beacon Tracker",
    "Stratus Drive",
)

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

# Non-entity fillers: they add lexical variety (numbers, percentages) that a
# model must learn *not* to tag, e.g. "12%" is never Money.
TEAMS: tuple[str, ...] = ("sales", "finance", "legal", "platform", "support", "design")

# ---------------------------------------------------------------------------
# NER templates. {Category} slots become labelled entities; {lowercase} slots
# are unlabelled fillers. Grouped by register so a document reads coherently.
# ---------------------------------------------------------------------------

EMAIL_TEMPLATES: tuple[str, ...] = (
    "Hi {Person}, thanks for sending over the {Organization} contract yesterday.",
    "Could you confirm the invoice of {Money} before {Date}?",
    "I will be in {City} from {Date} to {Date}, so let's meet there.",
    "Please loop in {Person} from {Organization} on the renewal thread.",
    "The {Product} pilot at {Organization} is scheduled to start on {Date}.",
    "{Person} approved a budget of {Money} for the {City} office refresh.",
    "Following up on our call: {Organization} has agreed to pay {Money} upfront.",
    "Can we move the review with {Person} to {Date}?",
    "Our {team} team in {City} needs {num} more licenses for {Product}.",
    "Thanks again to {Person} for hosting us in {City}.",
    "The quote from {Organization} came in at {Money}, which is {pct} below last year.",
    "Reminder: expense reports for the {City} trip are due {Date}.",
    "{Person} and {Person} will present the {Product} roadmap on {Date}.",
    "I've attached the signed NDA with {Organization} for your records.",
    "Let me know if {Date} works for a quick sync with {Person}.",
    "Dear {Person}, we received your payment of {Money} on {Date}.",
    "Please book a room in {City} for the {Organization} workshop.",
)

# Sign-offs have no final full stop, so they only ever close an email.
EMAIL_SIGN_OFFS: tuple[str, ...] = (
    "Best regards, {Person}",
    "Thanks, {Person}",
    "Cheers, {Person}",
    "Kind regards, {Person} ({Organization})",
)

NEWS_TEMPLATES: tuple[str, ...] = (
    "{Organization} reported quarterly revenue of {Money}, up {pct} from a year earlier.",
    "{Organization}, based in {City}, announced on {Date} that it will acquire "
    "{Organization} for {Money}.",
    "Shares of {Organization} fell {pct} after chief executive {Person} resigned.",
    "{Person}, a spokesperson for {Organization}, declined to comment.",
    "The company plans to open a new plant in {City} by {Date}.",
    "{Organization} launched {Product} in {City} on {Date}, priced at {Money}.",
    "Analysts expect {Organization} to hire {num} engineers in {City} next year.",
    "Regulators in {City} fined {Organization} {Money} on {Date}.",
    "{Person} was named chief financial officer of {Organization} effective {Date}.",
    "The deal values {Organization} at roughly {Money}, according to {Person}.",
    "Flights between {City} and {City} were suspended on {Date} due to storms.",
    "{Organization} said it raised {Money} in a funding round led by {Organization}.",
    "Mayor {Person} of {City} opened the new transit line on {Date}.",
    "{Product} sales doubled in {City}, {Organization} said in a statement.",
    "Union leaders in {City} met with {Organization} executives on {Date}.",
    "{Person} told reporters in {City} that {Organization} would cut {num} jobs.",
)

NOTES_TEMPLATES: tuple[str, ...] = (
    "Attendees: {Person}, {Person} and {Person}.",
    "Action item: {Person} to send the {Organization} proposal by {Date}.",
    "Decision: cap the {City} marketing spend at {Money}.",
    "Next meeting: {Date} in the {City} office.",
    "{Person} reported that {Product} onboarding at {Organization} is {pct} complete.",
    "Open question from {Person}: do we renew with {Organization} at {Money} per year?",
    "Budget update: {Money} spent so far, {Money} remaining.",
    "{Person} will travel to {City} on {Date} to meet {Organization}.",
    "Risks: {Organization} may delay delivery of {Product} until {Date}.",
    "Notes taken by {Person}.",
    "Customer feedback on {Product} from {City} was mostly positive.",
    "{Organization} asked for a discount of {Money} on the {Product} order.",
    "The {team} team will hand over the {Organization} account to {Person}.",
    "Agreed: {Person} owns the {Product} launch checklist.",
)

# Emoji sit right next to entities on purpose: characters outside the BMP take
# two UTF-16 code units, so offsets here diverge from Python code-point indices.
EMOJI_TEMPLATES: tuple[str, ...] = (
    "🎉 Congratulations to {Person} on closing the {Organization} deal!",
    "👩‍💻 {Person} is now leading the {Product} rollout in {City}.",
    "Huge thanks to {Person} 🙌 for the {City} launch on {Date}.",
    "{Organization} just wired {Money} 💰 for the first milestone.",
    "📅 Save the date: {Date} offsite in {City}.",
    "Welcome aboard, {Person}! 👋",
)

# Sentences without entities, including capitalised non-entities ("CEO",
# "Q&A"), so a model cannot tag every capitalised token.
PLAIN_SENTENCES: tuple[str, ...] = (
    "Please review the attached slides before the call.",
    "The Q&A section ran long, so we skipped the demo.",
    "All action items from last week are closed.",
    "The CEO thanked the team for a strong quarter.",
    "Let me know if you have any questions.",
    "Headcount stays flat at {num} for now.",
    "Legal still needs to review the final draft.",
    "Margins improved by {pct} thanks to lower shipping costs.",
)

NER_STYLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", EMAIL_TEMPLATES),
    ("news", NEWS_TEMPLATES),
    ("notes", NOTES_TEMPLATES),
)

ENTITY_CATEGORIES: tuple[str, ...] = (
    "Person",
    "Organization",
    "City",
    "Date",
    "Money",
    "Product",
)

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class NerSpan:
    """An entity occurrence; ``start``/``end`` are Python (code point) indices."""

    category: str
    start: int
    end: int
    surface: str


@dataclass(frozen=True)
class NerDocument:
    location: str
    dataset: str
    text: str
    spans: tuple[NerSpan, ...]


@dataclass(frozen=True)
class ClassifyDocument:
    location: str
    dataset: str
    text: str
    category: str


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the Azure string index type)."""
    return len(text.encode("utf-16-le")) // 2


def _dataset(index: int) -> str:
    return "Test" if index % TEST_EVERY == TEST_EVERY - 1 else "Train"


def _date(rng: random.Random) -> str:
    month_index = rng.randrange(12)
    month = MONTHS[month_index]
    day = rng.randint(1, 28)
    year = rng.choice((2023, 2024, 2025, 2026))
    form = rng.randrange(6)
    if form == 0:
        return f"{month} {day}, {year}"
    if form == 1:
        return f"{day} {month} {year}"
    if form == 2:
        return f"{year}-{month_index + 1:02d}-{day:02d}"
    if form == 3:
        return f"{month} {day}"
    if form == 4:
        return f"{rng.choice(WEEKDAYS)}, {month} {day}"
    return f"{month} {year}"


def _money(rng: random.Random) -> str:
    form = rng.randrange(6)
    if form == 0:
        return f"${rng.randint(100, 99_999):,}"
    if form == 1:
        return f"${rng.randint(11, 990) / 10:.1f} million"
    if form == 2:
        return f"€{rng.randint(1, 950) * 100:,}"
    if form == 3:
        return f"£{rng.randint(11, 400) / 10:.1f} million"
    if form == 4:
        code = rng.choice(("USD", "EUR", "CHF", "GBP"))
        return f"{code} {rng.randint(5, 900) * 50:,}"
    return f"¥{rng.randint(10, 9_000) * 1000:,}"


# Every HOLDOUT_EVERY-th name, organisation, city and product never appears in
# Train, so Test measures generalisation to unseen surfaces rather than recall
# of a memorised gazetteer.
HOLDOUT_EVERY = 6


def _train_only(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for i, v in enumerate(values) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1)


_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "Person": PERSONS,
    "Organization": ORGANIZATIONS,
    "City": CITIES,
    "Product": PRODUCTS,
}
_TRAIN_VOCABULARIES: dict[str, tuple[str, ...]] = {
    category: _train_only(values) for category, values in _VOCABULARIES.items()
}


def held_out_surfaces() -> dict[str, frozenset[str]]:
    """Per category, the list entries that only Test documents may contain."""
    return {
        category: frozenset(values) - frozenset(_TRAIN_VOCABULARIES[category])
        for category, values in _VOCABULARIES.items()
    }


def _entity(category: str, rng: random.Random, *, train: bool) -> str:
    if category in _VOCABULARIES:
        pool = _TRAIN_VOCABULARIES if train else _VOCABULARIES
        return rng.choice(pool[category])
    if category == "Date":
        return _date(rng)
    if category == "Money":
        return _money(rng)
    raise ValueError(f"unknown entity category {category!r}")


def _filler(name: str, rng: random.Random) -> str:
    if name == "num":
        return str(rng.randint(2, 250))
    if name == "pct":
        return f"{rng.randint(2, 95)}%"
    if name == "team":
        return rng.choice(TEAMS)
    raise ValueError(f"unknown filler slot {name!r}")


def _render_ner(
    template: str, offset: int, rng: random.Random, *, train: bool
) -> tuple[str, list[NerSpan]]:
    """Fill ``template``; span indices are shifted by ``offset`` into the document."""
    parts: list[str] = []
    spans: list[NerSpan] = []
    cursor = 0
    length = offset
    for match in _SLOT.finditer(template):
        literal = template[cursor : match.start()]
        parts.append(literal)
        length += len(literal)
        slot = match.group(1)
        if slot in ENTITY_CATEGORIES:
            value = _entity(slot, rng, train=train)
            spans.append(NerSpan(slot, length, length + len(value), value))
        else:
            value = _filler(slot, rng)
        parts.append(value)
        length += len(value)
        cursor = match.end()
    parts.append(template[cursor:])
    return "".join(parts), spans


def build_ner_documents(seed: int = SEED) -> list[NerDocument]:
    """Generate the NER documents with code-point spans (the source of truth)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    documents: list[NerDocument] = []
    for index in range(NER_DOC_COUNT):
        dataset = _dataset(index)
        style, pool = rng.choice(NER_STYLES)
        sentence_count = rng.choice((1, 2, 2, 3))
        templates = rng.sample(pool, sentence_count)
        # A few documents get an emoji sentence or an entity-free sentence so
        # that neither surrogate pairs nor "no entity here" are rare events.
        roll = rng.random()
        if roll < 0.06:
            templates.insert(rng.randrange(len(templates) + 1), rng.choice(EMOJI_TEMPLATES))
        elif roll < 0.25:
            templates.insert(rng.randrange(len(templates) + 1), rng.choice(PLAIN_SENTENCES))
        if style == "email" and rng.random() < 0.3:
            templates.append(rng.choice(EMAIL_SIGN_OFFS))
        text = ""
        spans: list[NerSpan] = []
        for template in templates:
            if text:
                text += " "
            sentence, sentence_spans = _render_ner(
                template, len(text), rng, train=dataset == "Train"
            )
            text += sentence
            spans.extend(sentence_spans)
        documents.append(
            NerDocument(
                location=f"doc-{index + 1:04d}.txt",
                dataset=dataset,
                text=text,
                spans=tuple(spans),
            )
        )
    return documents


def ner_project(seed: int = SEED) -> JsonDict:
    """The demo NER project as an Azure project-file dict (UTF-16 offsets)."""
    documents: list[JsonDict] = []
    for doc in build_ner_documents(seed):
        labels = [
            {
                "category": span.category,
                # Convert code-point indices to UTF-16 code units via the prefix.
                "offset": utf16_len(doc.text[: span.start]),
                "length": utf16_len(span.surface),
            }
            for span in doc.spans
        ]
        documents.append(
            {
                "location": doc.location,
                "language": LANGUAGE,
                "dataset": doc.dataset,
                "text": doc.text,
                "entities": [
                    {
                        "regionOffset": 0,
                        "regionLength": utf16_len(doc.text),
                        "labels": labels,
                    }
                ],
            }
        )
    kind = "CustomEntityRecognition"
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": STRING_INDEX_TYPE,
        "metadata": {
            "projectKind": kind,
            "storageInputContainerName": "demo-ner",
            "projectName": "demo-ner",
            "multilingual": False,
            "description": (
                "Lexicraft demo: synthetic business emails, news snippets and meeting "
                "notes labelled with people, organizations, cities, dates, money and "
                "products."
            ),
            "language": LANGUAGE,
            "settings": {},
        },
        "assets": {
            "projectKind": kind,
            "entities": [{"category": category} for category in ENTITY_CATEGORIES],
            "documents": documents,
        },
    }


# ---------------------------------------------------------------------------
# Classification templates
# ---------------------------------------------------------------------------

CLASS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Billing": (
        "I was charged twice for my {plan} subscription this month.",
        "My invoice {invoice} shows {amount} but I expected a lower amount.",
        "Why did my card get billed {amount} on {date}?",
        "Can you send me a copy of the receipt for order {order}?",
        "The VAT on my last invoice looks wrong.",
        "I need to update the credit card on file for billing.",
        "There is an unexpected fee of {amount} on my statement.",
        "Please explain the prorated charge after I upgraded to the {plan} plan.",
        "My payment failed even though my card is valid.",
        "I'd like a refund for the duplicate charge of {amount}.",
        "Can I switch from monthly to annual billing?",
        "The invoice is addressed to the wrong company name.",
        "I was promised a discount but the price at checkout was still {amount}.",
        "Do you accept bank transfers for invoice {invoice}?",
        "My bank shows a pending charge from you that I don't recognize.",
        "The coupon was not applied to my last bill.",
    ),
    "TechnicalIssue": (
        "The {product} app crashes every time I open the settings page.",
        "I keep getting error code {errcode} when syncing my {product}.",
        "My {product} won't connect to Wi-Fi after the latest firmware update.",
        "The screen on my {product} flickers and then goes black.",
        "Uploads stall at {pct} and never finish.",
        "The dashboard is extremely slow to load since {date}.",
        "Bluetooth pairing with my {product} fails repeatedly.",
        "After updating to version {version} the export feature is broken.",
        "The {product} battery drains in under an hour.",
        "I see a blank white page when I click the reports tab.",
        "Notifications stopped working on my phone.",
        "The API returns a 500 error for every request.",
        "My {product} keeps rebooting on its own.",
        "The search function returns no results even for exact matches.",
        "Audio cuts out during calls on the {product}.",
        "The installer hangs at {pct} on Windows.",
    ),
    "Shipping": (
        "My order {order} still hasn't arrived and it has been {days} days.",
        "The tracking number for order {order} shows no updates.",
        "The package was delivered to the wrong address.",
        "Can I change the delivery address for order {order}?",
        "My {product} arrived in a crushed box after a week in transit.",
        "{carrier} says the parcel is lost in transit.",
        "Do you ship to {country}?",
        "How long does express delivery take to {country}?",
        "The courier left a note but I was home all day.",
        "Only one of the two items in order {order} was in the parcel.",
        "Is it possible to pick up order {order} at a local store instead?",
        "My delivery was marked as delivered but nothing is at my door.",
        "Shipping costs at checkout were higher than advertised.",
        "The estimated delivery date for my {product} keeps moving.",
        "Customs is holding my package; what paperwork do you need?",
        "Can you upgrade order {order} to overnight shipping?",
    ),
    "AccountAccess": (
        "I can't log in to my account even though my password is correct.",
        "The password reset email never arrives.",
        "My account was locked after too many sign-in attempts.",
        "I lost my phone and can't get the two-factor authentication code.",
        "Someone changed my email address without my permission.",
        "The login page says my username does not exist.",
        "How do I recover my account if I no longer have access to {email}?",
        "The verification link says it has expired.",
        "I get signed out every few minutes.",
        "Single sign-on with our company directory stopped working.",
        "I need to transfer the account owner role to a colleague.",
        "My security questions are not accepted.",
        "I think my account was hacked; there are logins from {country}.",
        "The authenticator app codes are always rejected.",
        "I can't access the admin console anymore.",
        "Please unlock the account registered to {email}.",
    ),
    "Feedback": (
        "I love the new design of the {product} app, great job!",
        "It would be nice if the {product} supported dark mode.",
        "Your support agent {agent} was incredibly helpful.",
        "Just wanted to say the {product} exceeded my expectations.",
        "A suggestion: let us export reports as spreadsheets.",
        "The onboarding tutorial was clear and easy to follow.",
        "I'm disappointed with the quality of the latest update.",
        "Please consider adding more color options for the {product}.",
        "The new pricing page is confusing; it took me a while to understand it.",
        "Keep up the good work, the recent improvements are noticeable.",
        "I would recommend the {product} to my friends.",
        "The documentation could use more examples.",
        "Thank you for listening to customer suggestions.",
        "Feature request: a widget for the home screen.",
        "Overall the experience has been great over the past {years} years.",
        "The packaging of the {product} felt really premium.",
    ),
    "Cancellation": (
        "Please cancel my {plan} subscription effective immediately.",
        "I want to close my account and delete my data.",
        "How do I stop the automatic renewal?",
        "Cancel order {order} please, I ordered it by mistake.",
        "I'd like to end my contract before the renewal on {date}.",
        "We are moving to another provider and need to terminate our plan.",
        "Can I cancel the {product} preorder and get my money back?",
        "Please do not renew my membership next month.",
        "Unsubscribe me from the {plan} plan.",
        "What is the cancellation fee if I leave early?",
        "I no longer need the service; please deactivate it.",
        "Remove my payment method and cancel all future orders.",
        "I'm cancelling because the price went up.",
        "Please confirm that my trial will not convert to a paid plan.",
        "Terminate the team workspace for {company} at the end of the month.",
        "I want to return the {product} and cancel the extended warranty.",
    ),
}

CLASS_NAMES: tuple[str, ...] = tuple(CLASS_TEMPLATES)

OPENERS: tuple[str, ...] = (
    "",
    "Hi,",
    "Hello support team,",
    "Good morning,",
    "Hey there,",
    "Dear customer service,",
    "Hi {agent},",
    "Hello,",
    "To whom it may concern,",
)

CLOSERS: tuple[str, ...] = (
    "",
    "Thanks.",
    "Thank you!",
    "Regards, {customer}",
    "Appreciate the help!",
    "Cheers, {customer}",
    "Please advise.",
    "Looking forward to your reply.",
)

# Class-neutral sentences shared by all classes: they stop the classifier
# from keying on message length or on the mere presence of an order number.
NEUTRAL_SENTENCES: tuple[str, ...] = (
    "I have been a customer for {years} years.",
    "My order number is {order} in case you need it.",
    "I'm writing from my work email.",
    "This is my second message about this.",
    "Sorry for the long message.",
    "I use the {product} every day.",
    "My account email is {email}.",
    "I bought the {product} on {date}.",
)

CLASS_PRODUCTS: tuple[str, ...] = (
    "Nimbus X2",
    "Sparrow Mini",
    "Orbit Earbuds",
    "Pixelwave 4K",
    "Brightbox Hub",
    "Kinetic Watch S",
    "Vireo Tablet",
    "Beacon Tracker",
    "smart thermostat",
    "robot vacuum",
    "Ledgerly",
    "Quillpad",
)
PLANS: tuple[str, ...] = ("Basic", "Plus", "Premium", "Family", "Business", "Pro")
CARRIERS: tuple[str, ...] = ("The courier", "The carrier", "Swiftpost", "ParcelJet", "Roadrunner")
COUNTRIES: tuple[str, ...] = ("Canada", "Brazil", "Norway", "Kenya", "Japan", "Portugal", "Chile")
AGENTS: tuple[str, ...] = ("Maya", "Tom", "Ines", "Kofi", "Lena", "Raj", "Sasha")
CUSTOMERS: tuple[str, ...] = ("Alex", "Jordan", "Sam", "Noor", "Pedro", "Wen", "Hana", "Eli")
COMPANIES: tuple[str, ...] = ("Brightline Dental", "Kettle & Crumb", "Orchard Legal", "Vela Studio")
EMAIL_USERS: tuple[str, ...] = ("alex.k", "jordan88", "sam.w", "noor.h", "pedro.r", "wen.li")
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "mail.example.net")


def _class_filler(name: str, rng: random.Random) -> str:
    if name == "product":
        return rng.choice(CLASS_PRODUCTS)
    if name == "order":
        return f"#{rng.randint(100_000, 999_999)}"
    if name == "invoice":
        return f"INV-{rng.randint(1000, 9999)}"
    if name == "amount":
        return f"${rng.randint(5, 500)}.{rng.randint(0, 99):02d}"
    if name == "date":
        return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
    if name == "days":
        return str(rng.randint(5, 30))
    if name == "years":
        return str(rng.randint(2, 12))
    if name == "pct":
        return f"{rng.randint(5, 99)}%"
    if name == "errcode":
        return f"E{rng.randint(100, 999)}"
    if name == "version":
        return f"{rng.randint(2, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    if name == "plan":
        return rng.choice(PLANS)
    if name == "carrier":
        return rng.choice(CARRIERS)
    if name == "country":
        return rng.choice(COUNTRIES)
    if name == "agent":
        return rng.choice(AGENTS)
    if name == "customer":
        return rng.choice(CUSTOMERS)
    if name == "company":
        return rng.choice(COMPANIES)
    if name == "email":
        return f"{rng.choice(EMAIL_USERS)}@{rng.choice(EMAIL_DOMAINS)}"
    raise ValueError(f"unknown filler slot {name!r}")


def _fill(template: str, rng: random.Random) -> str:
    return _SLOT.sub(lambda match: _class_filler(match.group(1), rng), template)


def _support_message(category: str, rng: random.Random) -> str:
    body = rng.sample(CLASS_TEMPLATES[category], rng.choice((1, 1, 2)))
    if rng.random() < 0.35:
        body.insert(rng.randrange(len(body) + 1), rng.choice(NEUTRAL_SENTENCES))
    pieces = [rng.choice(OPENERS), *body, rng.choice(CLOSERS)]
    text = " ".join(_fill(piece, rng) for piece in pieces if piece)
    # Real tickets are sloppy; casing must not be a class signal.
    if rng.random() < 0.1:
        text = text.lower()
    return text


def build_classify_documents(seed: int = SEED) -> list[ClassifyDocument]:
    """Generate the support tickets: an equal number per class, stratified 80/20."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    drafts: list[tuple[str, str, str]] = []
    for category in CLASS_NAMES:
        for index in range(CLASSIFY_DOCS_PER_CLASS):
            drafts.append((_dataset(index), category, _support_message(category, rng)))
    # Interleave classes so document order carries no label information.
    rng.shuffle(drafts)
    return [
        ClassifyDocument(
            location=f"ticket-{number:04d}.txt",
            dataset=dataset,
            text=text,
            category=category,
        )
        for number, (dataset, category, text) in enumerate(drafts, start=1)
    ]


def classify_project(seed: int = SEED) -> JsonDict:
    """The demo classification project as an Azure project-file dict."""
    kind = "CustomSingleLabelClassification"
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": STRING_INDEX_TYPE,
        "metadata": {
            "projectKind": kind,
            "storageInputContainerName": "demo-classify",
            "projectName": "demo-classify",
            "multilingual": False,
            "description": (
                "Lexicraft demo: synthetic customer-support messages, one class per message."
            ),
            "language": LANGUAGE,
            "settings": {},
        },
        "assets": {
            "projectKind": kind,
            "classes": [{"category": category} for category in CLASS_NAMES],
            "documents": [
                {
                    "location": doc.location,
                    "language": LANGUAGE,
                    "dataset": doc.dataset,
                    "text": doc.text,
                    "class": {"category": doc.category},
                }
                for doc in build_classify_documents(seed)
            ],
        },
    }


def render(project: JsonDict) -> str:
    """Serialise a project exactly as it is committed (stable, UTF-8, newline-terminated)."""
    return json.dumps(project, indent=1, ensure_ascii=False) + "\n"


def write_all(out_dir: Path = DATA_DIR) -> list[Path]:
    """(Re)write both demo project files into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, project in ((NER_FILENAME, ner_project()), (CLASSIFY_FILENAME, classify_project())):
        path = out_dir / name
        path.write_text(render(project), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main() -> None:
    for path in write_all():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
