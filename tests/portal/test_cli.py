"""Bootstrap commands: users and partners from the command line."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts import passwords
from portal.models import Partner, User


def test_partners_and_users_are_created_from_the_cli(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partners", "create", "--name", "Lakeside Grocers", "--code", "lake"])
    assert result.exit_code == 0, result.output
    assert "Created partner LAKE" in result.output
    result = runner.invoke(
        args=["users", "create", "--email", "Owner@Lakeside.test", "--role", "partner_admin",
              "--partner", "LAKE", "--password-stdin"],
        input="quiet orchard lantern\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "owner@lakeside.test"))
    assert user.partner.code == "LAKE"
    assert passwords.verify_password(user.password_hash, "quiet orchard lantern")


def test_password_is_prompted_twice_when_not_on_stdin(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "admin2@example.test", "--role", "admin"],
        input="a long admin pass\na long admin pass\n",
    )
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User).where(User.email == "admin2@example.test")).role == "admin"


def test_bad_input_exits_2_with_a_message_and_saves_nothing(app, db, f):
    runner = app.test_cli_runner()
    cases = [
        (["users", "create", "--email", "b@example.test", "--role", "buyer", "--password-stdin"],
         "needs a partner"),
        (["users", "create", "--email", "b@example.test", "--role", "buyer", "--partner", "NOPE",
          "--password-stdin"], "No partner with code"),
        (["users", "create", "--email", "b@example.test", "--role", "wizard", "--password-stdin"],
         "Invalid value"),
        (["users", "create", "--email", "not-an-email", "--role", "admin", "--password-stdin"],
         "valid email"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args, input="long enough password\n")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    short = runner.invoke(args=["users", "create", "--email", "c@example.test", "--role", "admin",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 12" in short.output
    assert db.scalar(select(User).where(User.email.in_(["b@example.test", "c@example.test"]))) is None


def test_duplicate_partner_code_exits_2(app, db, f):
    f.partner(code="DUP")
    result = app.test_cli_runner().invoke(args=["partners", "create", "--name", "X", "--code", "dup"])
    assert result.exit_code == 2 and "already exists" in result.output
    assert len(db.scalars(select(Partner).where(Partner.code == "DUP")).all()) == 1
