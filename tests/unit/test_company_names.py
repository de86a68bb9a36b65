import pytest

from leads_shared.company_names import normalise_company_name


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("ACME, Inc.", "acme"),
        ("  Acme   Corp ", "acme"),
        ("Acme & Co.", "acme"),
        ("Société Générale S.A.", "societe generale"),
        ("Ben & Jerry's", "ben and jerrys"),
        ("Stark Industries GmbH & Co. KG", "stark industries"),
        ("Company Ltd", "company"),  # only suffixes: the words stay
        ("Co", "co"),
        ("!!!", ""),
    ],
)
def test_names_fold_the_way_people_mean_them(name, normalised):
    assert normalise_company_name(name) == normalised
