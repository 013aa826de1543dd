"""PostgreSQL's own wall behind the application's: the server's role, without a clinic set, sees nothing."""
from conftest import postgres_env, psql, run_psql


# POR-7, DAO-16: row-level security hides every tenant row from the server's role outside a clinic scope
def test_the_server_role_sees_no_patients_without_the_clinic_setting(postgres_server):
    owner = postgres_server.client().sign_up()
    owner.create_patient()
    owner.create_patient()
    pg = postgres_env()
    assert int(psql(pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"], "SELECT count(*) FROM patients")) == 2
    assert psql(pg["CLINICKEEP_E2E_POSTGRES_APP_URL"], "SELECT count(*) FROM patients") == "0"


# POR-7: the server's role owns nothing and cannot bypass row-level security
def test_the_server_role_owns_nothing_and_cannot_bypass_rls(postgres_server):
    postgres_server.client().sign_up()
    pg = postgres_env()
    app = pg["CLINICKEEP_E2E_POSTGRES_APP_URL"]
    assert psql(app, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user") == "f"
    assert psql(pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"],
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = 'clinickeep_app'") == "0"
    forced = psql(pg["CLINICKEEP_E2E_POSTGRES_SUPER_URL"],
                  "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.patients'::regclass")
    assert forced == "t"


# DAO-12, PRX-8: the server's role may add to the ledger but not change or remove its entries
# (it advances audit_heads, so it may update that table, but never delete from it)
def test_the_server_role_cannot_change_the_ledger(postgres_server):
    owner = postgres_server.client().sign_up()
    owner.create_patient()
    app = postgres_env()["CLINICKEEP_E2E_POSTGRES_APP_URL"]
    in_clinic = "SELECT set_config('clinickeep.realm', '%s', false); " % owner.clinic_id
    for statement in ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events",
                      "DELETE FROM audit_heads"]:
        result = run_psql(app, in_clinic + statement)
        assert result.returncode != 0, statement
        assert "permission denied" in result.stderr, (statement, result.stderr)
