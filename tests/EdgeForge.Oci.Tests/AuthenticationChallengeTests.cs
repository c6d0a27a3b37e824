using EdgeForge.Oci.Registry;

namespace EdgeForge.Oci.Tests;

public class AuthenticationChallengeTests
{
    [Fact]
    public void A_bearer_challenge_yields_realm_service_and_scope()
    {
        var challenges = AuthenticationChallenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\"");

        var challenge = challenges.ShouldHaveSingleItem();
        challenge.IsBearer.ShouldBeTrue();
        challenge.Realm.ShouldBe("https://auth.docker.io/token");
        challenge.Service.ShouldBe("registry.docker.io");
        challenge.Scope.ShouldBe("repository:samalba/my-app:pull,push");
    }

    [Fact]
    public void Several_challenges_in_one_header_are_told_apart()
    {
        var challenges = AuthenticationChallenge.Parse("Basic realm=\"Registry Realm\", Bearer realm=\"https://a.example/t\", error=\"invalid_token\"");

        challenges.Count.ShouldBe(2);
        challenges[0].IsBasic.ShouldBeTrue();
        challenges[0].Realm.ShouldBe("Registry Realm");
        challenges[1].IsBearer.ShouldBeTrue();
        challenges[1].Parameters["error"].ShouldBe("invalid_token");
    }

    [Fact]
    public void Quoted_strings_may_hold_commas_equals_and_escaped_quotes()
    {
        var challenge = AuthenticationChallenge.Parse("bearer realm=\"https://x.example/t?a=1,b=2\",service=unquoted-token,note=\"say \\\"hi\\\"\"").ShouldHaveSingleItem();

        challenge.IsBearer.ShouldBeTrue();
        challenge.Realm.ShouldBe("https://x.example/t?a=1,b=2");
        challenge.Service.ShouldBe("unquoted-token");
        challenge.Parameters["note"].ShouldBe("say \"hi\"");
    }

    [Fact]
    public void An_unterminated_quote_is_an_error()
    {
        Should.Throw<FormatException>(() => AuthenticationChallenge.Parse("Bearer realm=\"https://x"));
    }
}
