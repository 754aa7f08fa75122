"""Boundary validators (api/validators.py): properties over names, text, identity numbers,
money, dates and periods, and the request-body size limit. Self-contained: run with
``pytest tests/api/test_validators.py --noconftest``."""

import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI, Path, Query
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.validators import (
    MAX_HOUSEHOLD_MEMBERS,
    MONEY_MAX,
    PAYROLL_YEARS_AHEAD,
    BankField,
    BodySizeLimit,
    FreeText,
    IdNumber,
    Limit,
    LongLimit,
    Money,
    Offset,
    PaperDate,
    PayrollPeriod,
    PersonName,
    PositiveMoney,
    RowId,
    ShortText,
    bank_safe,
    control_character_field,
    free_text,
    household_size_ok,
    id_number,
    money,
    paper_date,
    paper_date_not_after,
    payroll_period,
    period_bounds,
    person_name,
    positive_money,
    short_text,
)
from jiuzhu.clock import beijing_today
from rules.id_number import check_character, make_id_number
from tests.conftest import auth

# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

CJK = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # URO
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),  # Extension A
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # Extension B
    st.characters(min_codepoint=0x2A700, max_codepoint=0x2EBEF),  # Extensions C–F
    st.characters(min_codepoint=0x30000, max_codepoint=0x323AF),  # Extensions G–H
    st.just("·"),
)
CJK_NAMES = st.text(alphabet=CJK, min_size=1, max_size=50)

NAMED_FORBIDDEN = [
    "\x00",
    "\r",
    "\n",
    "\t",
    "\x7f",
    "\x85",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u2028",
    "\u2029",
    "\ud800",  # lone surrogate
    "\ue000",  # private use
    "\U000f0000",  # supplementary private use
    "\u0378",  # unassigned
    "\uffff",  # noncharacter (unassigned)
]
FORBIDDEN = st.one_of(
    st.sampled_from(NAMED_FORBIDDEN),
    st.characters(categories=["Cc", "Cf", "Co", "Zl", "Zp"]),
)


@st.composite
def with_inserted(
    draw: st.DrawFn, base: st.SearchStrategy[str], bad: st.SearchStrategy[str]
) -> str:
    text = draw(base)
    at = draw(st.integers(min_value=0, max_value=len(text)))
    return text[:at] + draw(bad) + text[at:]


ANY_JSON_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

TODAY = beijing_today()


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


@given(CJK_NAMES)
def test_every_cjk_name_with_middle_dots_is_accepted_and_nfc(name: str) -> None:
    result = person_name(name)
    assert result == unicodedata.normalize("NFC", name)
    assert person_name(result) == result
    assert TypeAdapter(PersonName).validate_python(name) == result


@given(st.text(max_size=60))
def test_name_normalisation_is_idempotent(text: str) -> None:
    try:
        result = person_name(text)
    except ValueError:
        return
    assert person_name(result) == result
    assert unicodedata.is_normalized("NFC", result)
    assert 1 <= len(result) <= 50


@given(with_inserted(st.text(alphabet=CJK, max_size=49), FORBIDDEN))
def test_every_name_with_a_forbidden_character_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        person_name(name)
    with pytest.raises(ValidationError):
        TypeAdapter(PersonName).validate_python(name)


@pytest.mark.parametrize(
    "name",
    [
        "王𡉃",
        "𠮷野家",
        "阿依古丽·买买提",
        "阿依古丽・买买提",
        "热依拉·阿不都热合曼·艾力",
        "\U00031350\U00031351",  # Extension H, unassigned in Python 3.11's Unicode 14 database
        "Mary Smith",
        "玛丽·史密斯",
        "爱新觉罗·" + "溥" * 45,
    ],
)
def test_real_names_are_valid(name: str) -> None:
    assert person_name(name) == name


def test_name_is_stripped_and_normalised() -> None:
    assert person_name("  王小明\u3000") == "王小明"
    assert person_name("Jose\u0301 Li") == "José Li"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "姓名不能为空 / name is blank"),
        ("   \u3000", "name is blank"),
        ("王" * 51, "50"),
        ("𠮷" * 51, "50"),
        ("王  小明", "run of spaces"),
        ("王\u3000小明", "U+3000"),
        ("王\u00a0小明", "U+00A0"),
        ("阿依古丽•买买提", "U+2022"),
        ("王\u200b小明", "U+200B"),
        ("王小明\n", "U+000A"),
        ("\t王小明", "U+0009"),
        ("王|小明", "separator '|'"),
        ("Smith, Mary", "separator ','"),
    ],
)
def test_bad_names_are_refused_with_a_bilingual_message(name: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)) as caught:
        person_name(name)
    assert " / " in str(caught.value)


def test_name_must_be_text() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(PersonName).validate_python(123)


# ---------------------------------------------------------------------------------------------
# Free text, short text, bank fields
# ---------------------------------------------------------------------------------------------


FORBIDDEN_IN_FREE_TEXT = FORBIDDEN.filter(lambda ch: ch != "\n")


@given(with_inserted(st.text(alphabet=CJK, min_size=1, max_size=100), FORBIDDEN_IN_FREE_TEXT))
def test_free_text_refuses_every_forbidden_character_but_newline(text: str) -> None:
    with pytest.raises(ValueError):
        free_text(text)


@given(with_inserted(st.text(alphabet=CJK, min_size=1, max_size=100), st.just("\n")))
def test_free_text_accepts_newlines(text: str) -> None:
    assert free_text(text) == text.strip("\n")


@given(with_inserted(st.text(alphabet=CJK, max_size=100), FORBIDDEN))
def test_short_text_refuses_every_forbidden_character(text: str) -> None:
    with pytest.raises(ValueError):
        short_text(text)


def test_free_text_keeps_newlines_and_refuses_carriage_returns() -> None:
    assert free_text("\n  入户调查情况：\n家中三人。\n\n") == "入户调查情况：\n家中三人。"
    assert len(free_text("字" * 2000)) == 2000
    for bad in ["第一行\r\n第二行", "a\u2028b", "a\u2029b", "a\x00b", "a\u202eb", "a\tb", "\n\n"]:
        with pytest.raises(ValueError):
            free_text(bad)
    with pytest.raises(ValueError, match="2000"):
        free_text("字" * 2001)
    assert TypeAdapter(FreeText).validate_python("理由\n如下") == "理由\n如下"


def test_short_text_limits() -> None:
    assert short_text(" 某某街道办事处 ") == "某某街道办事处"
    assert len(short_text("字" * 200)) == 200
    for bad in ["字" * 201, "两\n行", "", " "]:
        with pytest.raises(ValueError):
            short_text(bad)
    assert TypeAdapter(ShortText).validate_python("x") == "x"


BANK_BAD = st.one_of(FORBIDDEN, st.sampled_from(["|", ",", "\r", "\n", "\x85", "\u2028"]))


@given(with_inserted(st.text(alphabet=CJK, max_size=40), BANK_BAD))
def test_bank_fields_refuse_line_breaks_controls_and_separators(text: str) -> None:
    with pytest.raises(ValueError):
        bank_safe(text)


def test_bank_safe_accepts_ordinary_names_and_accounts() -> None:
    assert bank_safe("阿依古丽·买买提") == "阿依古丽·买买提"
    assert bank_safe(" 6222 0212 3456 7890 ") == "6222 0212 3456 7890"
    assert TypeAdapter(BankField).validate_python("王𡉃") == "王𡉃"
    with pytest.raises(ValueError, match="separator"):
        bank_safe("张三|6222")
    with pytest.raises(ValueError, match="line break"):
        bank_safe("张三\r\n6222")


# ---------------------------------------------------------------------------------------------
# Identity numbers
# ---------------------------------------------------------------------------------------------

ID_NUMBERS = st.builds(
    make_id_number,
    st.integers(min_value=110000, max_value=659999).map(str),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}"),
)


@given(ID_NUMBERS)
def test_valid_identity_numbers_pass(number: str) -> None:
    assert id_number(number) == number
    assert id_number(number.lower()) == number
    assert TypeAdapter(IdNumber).validate_python(number) == number


@given(ID_NUMBERS, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(number: str, position: int, char: str) -> None:
    assume(number[position] != char)
    assume(position == 17 or char != "X")
    changed = number[:position] + char + number[position + 1 :]
    with pytest.raises(ValueError):
        id_number(changed)


def test_identity_number_birth_dates() -> None:
    assert id_number("11010519491231002x") == "11010519491231002X"
    future = make_id_number("110105", TODAY + timedelta(days=1), "001")
    with pytest.raises(ValueError, match="future"):
        id_number(future)
    assert id_number(future, today=TODAY + timedelta(days=1)) == future
    with pytest.raises(ValueError, match="1900-01-01"):
        id_number(make_id_number("110105", date(1899, 12, 31), "001"))
    assert id_number(make_id_number("110105", date(1900, 1, 1), "001"))
    not_a_day = "11010519900230001"
    with pytest.raises(ValueError, match="not a real date"):
        id_number(not_a_day + check_character(not_a_day))
    for bad in ["", "1101051949123100", "11010519491231002X0", "１１010519491231002X"]:
        with pytest.raises(ValueError):
            id_number(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(IdNumber).validate_python(110105194912310021)


# ---------------------------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------------------------

AMOUNTS = st.decimals(
    min_value=0, max_value=MONEY_MAX, places=2, allow_nan=False, allow_infinity=False
)
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


@given(AMOUNTS)
def test_money_round_trips_two_place_values(amount: Decimal) -> None:
    assert money(str(amount)) == amount
    assert money(str(amount)).as_tuple().exponent == -2
    assert money(float(amount)) == amount  # as a JSON number
    assert TypeAdapter(Money).validate_json(f'"{amount}"') == amount
    assert TypeAdapter(Money).validate_json(str(amount)) == amount


@given(AMOUNTS)
def test_money_refuses_full_width_digits(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        money(str(amount).translate(FULL_WIDTH))


@given(AMOUNTS, st.integers(min_value=0, max_value=9))
def test_money_refuses_a_third_decimal_place(amount: Decimal, digit: int) -> None:
    with pytest.raises(ValueError):
        money(f"{amount}{digit}")


@pytest.mark.parametrize(
    "bad",
    [
        "1e3",
        "1E3",
        "+1",
        "-1",
        "-0",
        " 1",
        "1 ",
        "1 000",
        "1,000",
        "1.",
        ".5",
        "",
        "NaN",
        "Infinity",
        "٣",  # Arabic-Indic digit
        "10000000.01",
        "99999999999999999999",
        float("nan"),
        float("inf"),
        -0.01,
        12.345,
        1e-7,
        True,
        None,
        [1],
        Decimal("NaN"),
        Decimal("-1"),
        Decimal("1.005"),
    ],
)
def test_money_refuses_bad_input(bad: object) -> None:
    with pytest.raises(ValueError):
        money(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(Money).validate_python(bad)


def test_money_bounds_and_positive_money() -> None:
    assert money("0") == Decimal("0.00")
    assert money(10_000_000) == MONEY_MAX
    assert money("007.5") == Decimal("7.50")
    assert money(Decimal("1.50")) == Decimal("1.50")
    with pytest.raises(ValueError, match="greater than 0"):
        positive_money("0.00")
    assert positive_money("0.01") == Decimal("0.01")
    with pytest.raises(ValidationError):
        TypeAdapter(PositiveMoney).validate_python(0)
    assert TypeAdapter(PositiveMoney).validate_json("1.5") == Decimal("1.50")


# ---------------------------------------------------------------------------------------------
# Dates, periods, households, bounded integers
# ---------------------------------------------------------------------------------------------


def test_paper_dates() -> None:
    adapter = TypeAdapter(PaperDate)
    assert adapter.validate_python("2000-01-01") == date(2000, 1, 1)
    assert adapter.validate_python(TODAY.isoformat()) == TODAY
    for bad in [
        "1999-12-31",
        (TODAY + timedelta(days=1)).isoformat(),
        "2024-5-1",
        "2024-05-01T00:00:00",
        "２０２４-05-01",
        "2024-02-30",
        1_700_000_000,
        None,
    ]:
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
    fixed = paper_date_not_after(date(2025, 3, 1))
    assert fixed(date(2025, 3, 1)) == date(2025, 3, 1)
    with pytest.raises(ValueError, match="after today"):
        fixed(date(2025, 3, 2))
    with pytest.raises(ValueError, match="2000-01-01"):
        paper_date(date(1999, 12, 31))

    class Visit(BaseModel):
        visited_on: Annotated[date, AfterValidator(paper_date_not_after(date(2025, 3, 1)))]

    with pytest.raises(ValidationError) as caught:
        Visit.model_validate({"visited_on": "2025-03-02"})
    assert caught.value.errors()[0]["loc"] == ("visited_on",)


@pytest.mark.parametrize(
    "bad",
    ["0001-01", "9999-12", "1999-12", "2024-13", "2024-00", "2024-1", "202401", "２０２４-01", ""],
)
def test_payroll_period_refuses_bad_periods(bad: str) -> None:
    with pytest.raises(ValueError):
        payroll_period(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(PayrollPeriod).validate_python(bad)


@given(
    st.integers(min_value=2000, max_value=TODAY.year + PAYROLL_YEARS_AHEAD),
    st.integers(min_value=1, max_value=12),
)
def test_payroll_periods_and_their_bounds(year: int, month: int) -> None:
    period = f"{year:04d}-{month:02d}"
    assert payroll_period(period) == period
    first, last = period_bounds(period)
    assert first == date(year, month, 1)
    assert last.month == month and (last + timedelta(days=1)).day == 1


def test_payroll_period_year_window() -> None:
    latest = TODAY.year + PAYROLL_YEARS_AHEAD
    with pytest.raises(ValueError, match=str(latest)):
        payroll_period(f"{latest + 1}-01")
    assert payroll_period("2040-12", today=date(2030, 6, 1)) == "2040-12"
    with pytest.raises(ValueError):
        payroll_period("2041-01", today=date(2030, 6, 1))
    assert period_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(ValidationError):
        TypeAdapter(PayrollPeriod).validate_python(202401)


def test_household_size() -> None:
    assert household_size_ok(1) == 1
    assert household_size_ok(MAX_HOUSEHOLD_MEMBERS) == MAX_HOUSEHOLD_MEMBERS
    assert household_size_ok(40, limit=40) == 40
    for bad in [0, -1, MAX_HOUSEHOLD_MEMBERS + 1, True]:
        with pytest.raises(ValueError):
            household_size_ok(bad)
    with pytest.raises(ValueError, match="5"):
        household_size_ok(6, limit=5)


@pytest.mark.parametrize(
    ("alias", "good", "bad"),
    [
        (Offset, [0, 1_000_000, "17"], [-1, 1_000_001, True, 1.5, "x"]),
        (Limit, [1, 200], [0, 201, 501, False]),
        (LongLimit, [1, 500], [0, 501, False]),
        (RowId, [1, 2**53 - 1], [0, 2**53, True]),
    ],
)
def test_bounded_integers(alias: Any, good: list[object], bad: list[object]) -> None:
    """A case list's page size names its own cap (200) for every value over it."""
    adapter: TypeAdapter[int] = TypeAdapter(alias)
    for value in good:
        assert adapter.validate_python(value) == int(str(value))
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)
    if alias is Limit:  # the message names the cap of case lists, not the ledgers' 500
        with pytest.raises(ValidationError, match="less than or equal to 200"):
            adapter.validate_python(501)


async def test_bounded_integers_work_as_query_and_path_parameters() -> None:
    app = FastAPI()

    @app.get("/cases/{row}")
    async def cases(
        row: Annotated[RowId, Path()],
        offset: Offset = 0,
        limit: Annotated[LongLimit, Query(description="page size")] = 50,
    ) -> dict[str, int]:
        return {"row": row, "offset": offset, "limit": limit}

    class Page(BaseModel):
        offset: Offset = 0
        limit: LongLimit = 50

    @app.post("/pages")
    async def pages(page: Page) -> Page:
        return page

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.get("/cases/7", params={"offset": 3, "limit": 500})
        assert ok.status_code == 200 and ok.json() == {"row": 7, "offset": 3, "limit": 500}
        for url in ["/cases/0", "/cases/7?offset=-1", "/cases/7?limit=501", "/cases/7?limit=0"]:
            assert (await client.get(url)).status_code == 422, url
        assert (await client.post("/pages", json={"offset": 2, "limit": 9})).status_code == 200
        assert (await client.post("/pages", json={"limit": 501})).status_code == 422
        assert (await client.post("/pages", json={"offset": True})).status_code == 422
    parameters = app.openapi()["paths"]["/cases/{row}"]["get"]["parameters"]
    schemas = {p["name"]: p["schema"] for p in parameters}
    assert schemas["limit"]["maximum"] == 500 and schemas["offset"]["minimum"] == 0


# ---------------------------------------------------------------------------------------------
# Every bad input is a validation error, never a crash
# ---------------------------------------------------------------------------------------------

TYPES: list[Any] = [
    PersonName,
    FreeText,
    ShortText,
    BankField,
    IdNumber,
    PaperDate,
    Money,
    PositiveMoney,
    Offset,
    Limit,
    RowId,
    PayrollPeriod,
]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TYPES), ANY_JSON_VALUE)
def test_any_input_is_accepted_or_a_validation_error(annotated: Any, value: object) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(annotated)
    try:
        adapter.validate_python(value)
    except ValidationError:
        pass


# ---------------------------------------------------------------------------------------------
# Request body size
# ---------------------------------------------------------------------------------------------

MB = 1_048_576


class Recorder:
    """A raw ASGI app that reads the whole body and remembers how much the last request gave."""

    def __init__(self) -> None:
        self.calls = 0
        self.received = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        self.received = 0
        more = True
        while more:
            message = await receive()
            self.received += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(self.received).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"x" * n


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def assert_problem_413(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    detail = "请求体超过 1 MB / request body over 1048576 bytes"
    assert response.json() == {
        "type": "about:blank",
        "title": "Content Too Large",
        "status": 413,
        "detail": detail,
        "errors": [{"field": "body", "message": detail}],
    }


async def test_declared_body_over_the_limit_is_refused_unread() -> None:
    inner = Recorder()
    async with client_for(BodySizeLimit(inner)) as client:
        response = await client.post("/", content=b"x" * (MB + 1))
    assert_problem_413(response)
    assert inner.calls == 0


async def test_body_at_or_under_the_limit_passes() -> None:
    inner = Recorder()
    async with client_for(BodySizeLimit(inner)) as client:
        exact = await client.post("/", content=b"x" * MB)
        small = await client.post("/", content=b"{}")
        streamed = await client.post("/", content=chunks(MB))
    assert (exact.status_code, exact.text) == (200, str(MB))
    assert (small.status_code, small.text) == (200, "2")
    assert (streamed.status_code, streamed.text) == (200, str(MB))


async def test_chunked_body_streaming_past_the_limit_is_refused() -> None:
    inner = Recorder()
    async with client_for(BodySizeLimit(inner)) as client:
        response = await client.post("/", content=chunks(MB + 1))
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem_413(response)
    assert inner.calls == 1
    assert inner.received <= MB  # the app never got more than the limit


async def test_body_limit_in_front_of_starlette_and_fastapi_apps() -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"received": len(await request.body())})

    starlette_app = Starlette(
        routes=[Route("/echo", echo, methods=["POST"])],
        middleware=[Middleware(BodySizeLimit, max_bytes=MB)],
    )

    api = FastAPI()
    api.add_middleware(BodySizeLimit, max_bytes=MB)

    class Objection(BaseModel):
        text: FreeText

    @api.post("/objections")
    async def objection(body: Objection) -> dict[str, int]:
        return {"length": len(body.text)}

    async with client_for(starlette_app) as client:
        assert_problem_413(await client.post("/echo", content=chunks(MB + 1)))
        assert (await client.post("/echo", content=chunks(1000))).json() == {"received": 1000}
    async with client_for(api) as client:
        # FastAPI would turn the interrupted read into a 400; the middleware answers 413.
        headers = {"content-type": "application/json"}
        over = chunks(MB + 10)
        assert_problem_413(await client.post("/objections", content=over, headers=headers))
        ok = await client.post("/objections", json={"text": "不服\n理由"})
        assert ok.status_code == 200 and ok.json() == {"length": 5}
        bad = await client.post("/objections", json={"text": "a\u202eb"})
        assert bad.status_code == 422


async def test_body_limit_ignores_non_http_scopes() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await BodySizeLimit(app, max_bytes=0)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


# --- control characters in the URL ------------------------------------------------------------
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.characters(
    min_codepoint=0x7F, max_codepoint=0x9F
)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40))
def test_a_url_without_control_characters_passes(text: str) -> None:
    query = urlencode({"case_id": text, "status": "accepted"}).encode("ascii")
    assert control_character_field("/applications/" + text, query) is None


@given(with_inserted(st.text(alphabet=CJK, max_size=20), CONTROL))
def test_a_control_character_anywhere_in_the_url_names_its_field(text: str) -> None:
    query = urlencode({"status": "accepted", "case_id": text}).encode("ascii")
    assert control_character_field("/me/messages", query) == "case_id"
    assert control_character_field(f"/applications/{text}", b"") == "path"


async def test_a_control_character_in_a_query_or_path_is_422_naming_it(
    api: httpx.AsyncClient,
) -> None:
    """PostgreSQL refuses NUL in text: before, ``case_id=…\\x00…`` answered 500 there
    (schemathesis)."""
    r = await api.get("/me/messages", params={"case_id": "A\x00B"}, headers=auth("county"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "case_id"
    r = await api.get("/applications/A%00B", headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path"
    r = await api.get("/applications", params={"status": "accepted\n"}, headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
