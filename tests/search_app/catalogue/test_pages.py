"""The HTML pages over a real SQLite catalogue (see conftest.RECORDS for where every count comes from)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html

from tests.search_app.search_app_catalogue import Client


async def page(client: Client, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    return lxml.html.fromstring(await response.text())


def text_of(element: lxml.html.HtmlElement | None) -> str:
    assert element is not None
    return " ".join(element.text_content().split())


def href(element: lxml.html.HtmlElement) -> str:
    value = element.get("href")
    assert value is not None
    return value


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def count_line(doc: lxml.html.HtmlElement) -> str:
    return text_of(doc.find_class("results-count")[0])


def result_titles(doc: lxml.html.HtmlElement) -> list[str]:
    return [text_of(h) for h in doc.find_class("result-card__title")]


def facet_counts(doc: lxml.html.HtmlElement, facet: str) -> dict[str, int]:
    section = doc.get_element_by_id(f"facet-{facet}").getparent()
    assert section is not None
    counts = {}
    for link in section.find_class("facet__link"):
        label = text_of(link.find_class("facet__label")[0]).removeprefix("Remove filter: ")
        counts[label] = int(text_of(link.find_class("facet__count")[0]).split()[0].replace(",", ""))
    return counts


async def test_home_counts_records_and_names_every_library(client: Client) -> None:
    doc = await page(client, "/")
    stats = {text_of(item.find("dt")): text_of(item.find("dd")) for item in doc.find_class("stats__item")}
    assert stats == {"Titles": "12", "Libraries": "4"}
    names = [text_of(a) for a in doc.find_class("library-card__name")]
    assert names == [
        "Bibliothèque de Sciences Po",
        "Bibliothèque municipale de Lyon",
        "Bodleian Library, Oxford",
        "McGill University Library",
    ]
    assert doc.get_element_by_id("home-q").get("name") == "q"


async def test_search_without_q_lists_everything(client: Client) -> None:
    doc = await page(client, "/search")
    assert "of 12 titles" in count_line(doc)
    assert len(result_titles(doc)) == 12


async def test_search_folds_accents_and_shows_holding_libraries(client: Client) -> None:
    doc = await page(client, "/search?q=miserables")
    assert result_titles(doc) == ["Les Misérables"]
    held = text_of(doc.find_class("result-card__held")[0])
    assert "Held by 2 libraries" in held
    assert "Bibliothèque municipale de Lyon" in held and "Bodleian Library, Oxford" in held


async def test_facets_show_labels_and_counts_of_the_data(client: Client) -> None:
    doc = await page(client, "/search")
    assert facet_counts(doc, "held_at") == {
        "Bodleian Library, Oxford": 5,
        "McGill University Library": 5,
        "Bibliothèque municipale de Lyon": 4,
        "Bibliothèque de Sciences Po": 3,
    }
    assert facet_counts(doc, "format") == {"Book": 10, "Journal / serial": 1, "Map": 1}
    assert facet_counts(doc, "language") == {"English": 5, "French": 5, "German": 1, "Spanish": 1}
    assert facet_counts(doc, "audience") == {"Adults": 1, "General readers": 1}
    years = facet_counts(doc, "year")
    assert list(years)[:3] == ["2000-2009", "1990-1999", "1980-1989"]  # newest decade first
    assert years["1990-1999"] == 2 and sum(years.values()) == 12


async def test_filters_narrow_the_count(client: Client) -> None:
    # oxford ∩ eng = pp1980, complete
    assert "of 2 titles" in count_line(await page(client, "/search?library=oxford&language=eng"))
    # oxford ∪ lyon = pp1980 complete miserables faust quijote + rapport revue carte
    assert "of 8 titles" in count_line(await page(client, "/search?library=oxford&library=lyon"))
    # austen ∩ mcgill = pp1980 pp1990 novels
    assert "of 3 titles" in count_line(await page(client, "/search?q=austen&library=mcgill"))
    # 1900-1999: pp1980 pp1990 novels complete interets revue
    assert "of 6 titles" in count_line(await page(client, "/search?year=1900-1999"))
    doc = await page(client, "/search?format=serial")
    assert result_titles(doc) == ["Revue française de science politique"]
    # general ∪ adults = pp1990 rapport; ∩ mcgill = pp1990
    assert "of 2 titles" in count_line(await page(client, "/search?audience=general&audience=adults"))
    assert "of 1 title" in count_line(await page(client, "/search?audience=general&library=mcgill"))


async def test_facet_links_add_and_remove_filters(client: Client) -> None:
    doc = await page(client, "/search?q=austen")
    links = {text_of(a.find_class("facet__label")[0]): href(a) for a in doc.find_class("facet__link")}
    mcgill = links["McGill University Library"]
    assert query_of(mcgill) == {"q": ["austen"], "held_at": ["mcgill"]}
    narrowed = await page(client, mcgill)
    assert "of 3 titles" in count_line(narrowed)
    selected = narrowed.find_class("is-selected")[0]
    assert "Remove filter" in text_of(selected)
    assert query_of(href(selected)) == {"q": ["austen"]}
    chip = narrowed.find_class("chip")[0]
    assert text_of(chip).startswith("Remove filter Library: McGill University Library")
    assert "of 4 titles" in count_line(await page(client, href(chip)))


async def test_paging_links_and_aria_current(client: Client) -> None:
    doc = await page(client, "/search?page_size=5&page=2&sort=title")
    assert "Showing 6–10 of 12 titles" in count_line(doc)
    current = doc.xpath('//nav[@class="pager"]//a[@aria-current="page"]')
    assert [text_of(a) for a in current] == ["Page 2"]
    numbers = [text_of(a) for a in doc.find_class("pager__number")]
    assert numbers == ["Page 1", "Page 2", "Page 3"]
    prev = href(doc.xpath('//a[@rel="prev"]')[0])
    nxt = href(doc.xpath('//a[@rel="next"]')[0])
    assert query_of(prev) == {"sort": ["title"], "page_size": ["5"]}
    assert query_of(nxt) == {"sort": ["title"], "page_size": ["5"], "page": ["3"]}
    last = await page(client, nxt)
    assert "Showing 11–12 of 12 titles" in count_line(last)
    assert not last.xpath('//a[@rel="next"]')


async def test_sort_form_keeps_the_search(client: Client) -> None:
    doc = await page(client, "/search?q=austen&library=mcgill&page=1")
    form = doc.find_class("sort-form")[0]
    hidden = sorted((i.get("name"), i.get("value")) for i in form.xpath(".//input[@type='hidden']"))
    assert hidden == [("library", "mcgill"), ("q", "austen")]
    doc = await page(client, "/search?q=austen&sort=year_asc")
    assert result_titles(doc)[0] == "The novels of Jane Austen"  # 1932, the oldest Austen


async def test_no_results_explains_and_suggests(client: Client) -> None:
    doc = await page(client, "/search?q=zzyzx&library=lyon")
    lead = text_of(doc.find_class("no-results__lead")[0])
    assert lead == "No titles match zzyzx with these filters."
    hrefs = [href(a) for a in doc.find_class("no-results")[0].iter("a")]
    assert "/search?q=zzyzx" in hrefs  # the same words without filters
    assert "/search?library=lyon" in hrefs  # the filters without the words


async def test_page_past_the_end_says_so(client: Client) -> None:
    doc = await page(client, "/search?page=99")
    assert "past the last one" in count_line(doc)


async def test_record_page_groups_holdings_by_library(client: Client) -> None:
    doc = await page(client, "/record/u-pp1980")
    assert text_of(doc.find(".//h1")) == "Pride and prejudice"
    groups = doc.find_class("holdings-library")
    assert [text_of(g.find_class("holdings-library__name")[0]) for g in groups] == [
        "Bodleian Library, Oxford oxford",
        "McGill University Library mcgill",
    ]
    oxford_rows = [
        [text_of(td) for td in tr.findall("td")] for tr in groups[0].iter("tr") if tr.findall("td")
    ]
    # Signed out, no barcode; no copy has a document type, so no column of dashes for it.
    assert oxford_rows == [
        ["Bodleian", "M94.G00395", "BOD Bookstack"],
        ["Bodleian", "M94.G00396", "Upper Reading Room"],
    ]
    provenance = text_of(doc.find_class("record__provenance")[0])
    # Signed out, the members but not the merge key (librarians see it: test_demo_pages.py).
    assert "merged by" not in provenance and "9780140057744" not in provenance
    assert "UkOxUb10768999" in provenance and "4683624" in provenance
    subjects = [href(a) for a in doc.find_class("subject-list")[0].iter("a")]
    assert query_of(subjects[0]) == {"q": ['subject:"Social classes -- Fiction"']}
    assert "No comments yet" in text_of(doc.get_element_by_id("comments-title").getparent())


async def test_record_page_shows_the_target_audience_by_its_label(client: Client) -> None:
    details = (await page(client, "/record/u-pp1990")).find_class("details")[0]
    described = {text_of(dt): text_of(dt.getnext()) for dt in details.iter("dt")}
    assert described["Target audience"] == "General readers"
    assert described["Language"] == "English"
    assert "Target audience" not in text_of((await page(client, "/record/u-pp1980")).find_class("details")[0])


async def test_record_page_subject_link_finds_the_record(client: Client) -> None:
    doc = await page(client, "/record/u-miserables")
    link = href(next(iter(doc.find_class("subject-list")[0].iter("a"))))
    assert result_titles(await page(client, link)) == ["Les Misérables"]


async def test_redirected_record_moves_permanently(client: Client) -> None:
    response = await client.get("/record/u-old-pp", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/record/u-pp1980"


async def test_unknown_record_is_a_404_page(client: Client) -> None:
    response = await client.get("/record/u-nothing")
    assert response.status == 404
    doc = lxml.html.fromstring(await response.text())
    assert "u-nothing" in text_of(doc.find_class("error-message")[0])


async def test_markup_in_data_is_escaped(client: Client) -> None:
    for path, shown in (
        ("/record/u-script", "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; other tricks"),
        # The query's words are marked in the results; the markup around them stays escaped.
        (
            "/search?q=tricks",
            "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; other <mark>tricks</mark>",
        ),
        ("/search?q=script", "&lt;<mark>script</mark>&gt;alert(&#39;owned&#39;)&lt;/<mark>script</mark>&gt;"),
    ):
        response = await client.get(path)
        body = await response.text()
        assert "<script>alert" not in body and "<b>Evil</b>" not in body
        assert shown in body
    response = await client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in await response.text()


async def test_static_stylesheet_is_served(client: Client) -> None:
    response = await client.get("/static/unicat.css")
    assert response.status == 200
    assert ".skip-link" in await response.text()
