from leads_shared.route_table import RouteTable


def test_methods_by_path_template():
    table = RouteTable.from_openapi(
        {"paths": {"/leads": {"get": {}, "post": {}}, "/leads/{id}": {"get": {}, "parameters": []}}},
        extra=[("/health", "GET")],
    )
    assert table.allowed("/leads") == ["GET", "POST"]
    assert table.allowed("/leads/42") == ["GET"]
    assert table.allowed("/health") == ["GET"]
    assert table.allowed("/leads/42/notes") == []
    assert table.allowed("/leads/") == []
    assert table.allowed("/leadsx") == []


def test_a_literal_path_wins_over_a_parameter_like_on_api_gateway():
    table = RouteTable([("/leads/{id}", "GET"), ("/leads/{id}", "PUT"), ("/leads/match-company", "GET")])
    assert table.allowed("/leads/match-company") == ["GET"]
    assert table.allowed("/leads/7") == ["GET", "PUT"]
