"""Parameters a page does not read are ignored (a shared link carries ``utm_source``, ``fbclid``…),
while a bad value of one it reads stays a 400 naming it; the JSON API ignores the tracking parameters
only and refuses any other unknown name, so a script learns of its typo (search_app/parameters.py)."""

from __future__ import annotations

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import staff_client
from tests.search_app.search_app_catalogue import Client, ClientFactory
from unicat.catalogue import Catalogue
from unicat.settings import Settings

# What mailers, social networks and ad networks append to a link, and a name no page knows.
TRACKING = "utm_source=newsletter&utm_medium=email&utm_campaign=spring&fbclid=IwAR0x&gclid=Cj0K&msclkid=9f"
STRANGERS = TRACKING + "&color=red&Q=austen&%FF%FE=1"

PUBLIC_PAGES = ["/", "/search", "/search?q=austen&format=book", "/record/u-pp1980", "/signin", "/register"]
PATRON_PAGES = ["/account", "/lists"]
LIBRARIAN_PAGES = [
    "/librarians/harvests",
    "/librarians/harvests?runs=3",
    "/librarians/quarantine",
    "/librarians/quarantine?page=1",
    "/librarians/merges",
    "/librarians/merges/u-pp1980",
    "/librarians/moderation",
    "/librarians/overlap",
]


def with_strangers(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{STRANGERS}"


async def same_page(client: Client, path: str) -> None:
    """``path`` with the strangers added is answered as ``path`` is: same status, same heading and text."""
    plain = await client.get(path)
    assert plain.status == 200, (path, await plain.text())
    tracked = await client.get(with_strangers(path))
    assert tracked.status == 200, (path, await tracked.text())
    docs = [lxml.html.fromstring(await answer.text()) for answer in (plain, tracked)]
    h1s, mains = (
        [" ".join(d.cssselect(css)[0].text_content().split()) for d in docs] for css in ("h1", "main")
    )
    assert h1s[0] == h1s[1] and h1s[0]
    if path.startswith("/search"):
        assert mains[0] == mains[1]


@pytest.fixture
async def patron(catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory) -> Client:
    return await staff_client(
        aiohttp_client,
        make_app(catalogue, settings),
        catalogue.accounts,
        role="patron",
        email="pat@example.org",
    )


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages_ignore_unknown_parameters(client: Client, path: str) -> None:
    await same_page(client, path)


async def test_patron_pages_ignore_unknown_parameters(patron: Client) -> None:
    made = await patron.post("/lists", data={"name": "To read"}, allow_redirects=False)
    assert made.status == 303, await made.text()
    for path in [*PATRON_PAGES, made.headers["Location"]]:
        await same_page(patron, path)


async def test_librarians_pages_ignore_unknown_parameters(librarian: Client) -> None:
    for path in LIBRARIAN_PAGES:
        await same_page(librarian, path)


async def test_a_missing_page_stays_a_404_with_unknown_parameters(client: Client) -> None:
    assert (await client.get(with_strangers("/record/u-nowhere"))).status == 404


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/search?page=abc", "page"),
        ("/search?sort=cheapest", "sort"),
        ("/search?year=someday", "year"),
        ("/librarians/harvests?runs=abc", "runs"),
        ("/librarians/harvests?source=nowhere", "source"),
        ("/librarians/quarantine?page=0", "page"),
        ("/librarians/quarantine?stage=sideways", "stage"),
    ],
)
async def test_a_bad_value_of_a_known_parameter_stays_a_400_beside_unknown_ones(
    librarian: Client, path: str, param: str
) -> None:
    response = await librarian.get(with_strangers(path))
    assert response.status == 400
    message = (
        lxml.html.fromstring(await response.text()).find_class("error-message")[0].text_content().strip()
    )
    assert message.startswith(f"The parameter {param} is not valid")


@pytest.mark.parametrize("path", ["/api/search?q=austen", "/api/status", "/api/quarantine"])
async def test_the_api_ignores_tracking_parameters(librarian: Client, path: str) -> None:
    plain, tracked = (
        (await librarian.get(path)),
        (await librarian.get(f"{path}{'&' if '?' in path else '?'}{TRACKING}")),
    )
    assert (plain.status, tracked.status) == (200, 200)
    if path.startswith("/api/search"):
        assert (await plain.json())["total"] == (await tracked.json())["total"] > 0


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/search?q=austen&pagesize=5", "pagesize"),
        ("/api/search?utm_source=x&Q=austen", "Q"),
        ("/api/search?%FF%FE=1", "\ufffd\ufffd"),
        ("/api/status?color=red", "color"),
        ("/api/status?q=austen", "q"),
        ("/api/quarantine?fbclid=x&sort=new", "sort"),
    ],
)
async def test_the_api_refuses_other_unknown_parameters_naming_them(
    librarian: Client, path: str, param: str
) -> None:
    response = await librarian.get(path)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["param"] == param and error["message"].startswith("unknown parameter; known: ")
