def test_session_tenants_exist(tenant_a, tenant_b):
    assert tenant_a.status == "active"
    assert tenant_b.status == "active"
