"""The page links under every paged list: the first and last pages, two either side of the current
one, and an ellipsis for each run left out, with the list's query kept."""

from django.core.paginator import Paginator
from django.template import Context, Template

from portal.web.templatetags.portal_ui import page_numbers, page_url


def page(number: int, pages: int = 300):
    return Paginator(range(pages * 20), 20).get_page(number)


def test_long_lists_link_to_the_ends_and_the_pages_around_the_current_one():
    assert page_numbers(page(6)) == [1, None, 4, 5, 6, 7, 8, None, 300]
    assert page_numbers(page(1)) == [1, 2, 3, None, 300]
    assert page_numbers(page(300)) == [1, None, 298, 299, 300]


def test_short_lists_link_to_every_page():
    assert page_numbers(page(2, pages=5)) == [1, 2, 3, 4, 5]
    # A gap of one page shows the page, not an ellipsis.
    assert page_numbers(page(4, pages=7)) == [1, 2, 3, 4, 5, 6, 7]


def test_links_keep_the_query_and_may_name_their_own_parameter_and_place():
    assert page_url("status=open&page=3", 4) == "?status=open&page=4"
    assert page_url("status=open", 2, "mhhs_page", "mhhs") == "?status=open&mhhs_page=2#mhhs"


def test_the_component_renders_the_links_with_the_current_page_marked():
    html = Template('{% include "components/pagination.html" %}').render(
        Context({"page": page(150), "query": "q=energy"})
    )
    assert html.count('class="govuk-pagination__item govuk-pagination__item--ellipses"') == 2
    assert 'href="?q=energy&amp;page=150" aria-label="Page 150" aria-current="page"' in html
    assert 'href="?q=energy&amp;page=300"' in html and 'href="?q=energy&amp;page=1"' in html
    assert 'href="?q=energy&amp;page=100"' not in html
    assert 'rel="prev"' in html and 'rel="next"' in html
