#include <callswap/attribution.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace {

namespace json = callswap::json;

const callswap::SiteConfig& acme() {
  static const callswap::SiteConfig config = [] {
    std::ifstream in(CALLSWAP_SOURCE_DIR "/examples/configs/acme.json");
    std::ostringstream s;
    s << in.rdbuf();
    return *callswap::parse_site_config(s.str()).config;
  }();
  return config;
}

}  // namespace

TEST_CASE("Sources are chosen in the market's priority order", "[attribution]") {
  struct Row {
    const char* url;
    const char* referrer;
    const char* source;
    const char* reason;
  };
  const Row rows[] = {
      // Landing-page parameters first: click ids and UTM rules, in config order.
      {"https://acme.example/?gclid=abc", "", "google-ads", "click id gclid"},
      {"https://acme.example/p?x=1&gbraid=q#top", "https://www.bing.com/", "google-ads",
       "click id gbraid"},
      {"https://acme.example/?utm_source=Google&utm_medium=CPC", "", "google-ads",
       "landing parameter utm_source=Google utm_medium=CPC"},
      {"https://acme.example/?utm_source=google&utm_medium=display", "", "direct", "default"},
      {"https://acme.example/?msclkid=1", "https://www.google.de/", "bing-ads", "click id msclkid"},
      {"https://acme.example/?gclid=", "", "direct", "default"},
      {"https://acme.example/?utm_medium=email", "https://www.google.com/", "newsletter",
       "landing parameter utm_medium=email"},
      {"https://acme.example/?utm%5Fmedium=e%6Dail", "", "newsletter",
       "landing parameter utm_medium=email"},
      // Then a specific referrer host, then a referrer group.
      {"https://acme.example/", "https://partner.example/deals", "partner",
       "referrer host partner.example"},
      {"https://acme.example/", "https://shop.partner.example/", "partner",
       "referrer host shop.partner.example"},
      {"https://acme.example/", "https://www.comparison.co.uk/x", "partner",
       "referrer host www.comparison.co.uk"},
      {"https://acme.example/", "https://notpartner.example/", "direct", "default"},
      {"https://acme.example/", "https://www.google.de/search?q=x", "organic",
       "referrer www.google.de in group search"},
      {"https://acme.example/", "https://google.co.uk/", "organic",
       "referrer google.co.uk in group search"},
      {"https://acme.example/", "https://l.facebook.com/", "organic",
       "referrer l.facebook.com in group social"},
      {"https://acme.example/", "https://mail.google.com/mail/u/0", "newsletter",
       "referrer mail.google.com in group email"},
      {"https://acme.example/", "https://webmail.example.net/", "newsletter",
       "referrer webmail.example.net in group email"},
      {"https://acme.example/", "https://googleusercontent.com/", "direct", "default"},
      // A referrer from the site itself never overrides.
      {"https://acme.example/b", "https://acme.example/a", "direct", "default (internal referrer)"},
      {"https://www.acme.example/b", "https://shop.acme.example/a", "direct",
       "default (internal referrer)"},
      {"https://acme.example/b", "", "direct", "default"},
      {"not a url", "also not", "direct", "default"},
  };
  for (const Row& row : rows) {
    SECTION(std::string(row.url) + " from " + row.referrer) {
      const auto a = callswap::attribute(acme(), row.url, row.referrer);
      REQUIRE(a.source);
      CHECK(a.source->id == row.source);
      CHECK(a.reason == row.reason);
    }
  }
}

TEST_CASE("Only the campaign details worth keeping leave the core", "[attribution][privacy]") {
  const auto a =
      callswap::attribute(acme(),
                          "https://acme.example/"
                          "?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=garden+"
                          "chair&utm_content=ad1&gclid=SECRET&email=jane%40example.com",
                          "https://www.google.de/search?q=jane+doe");
  CHECK(a.campaign.utm_source == "google");
  CHECK(a.campaign.utm_medium == "cpc");
  CHECK(a.campaign.utm_campaign == "spring");
  CHECK(a.campaign.utm_term == "garden chair");
  CHECK(a.campaign.utm_content == "ad1");
  CHECK(a.campaign.click_id == "gclid");
  CHECK(a.campaign.click_id_value.empty());  // not kept unless the config asks
  const std::string json = a.to_json().dump();
  CHECK(json.find("SECRET") == std::string::npos);
  CHECK(json.find("jane") == std::string::npos);
  CHECK(json.find("search?q") == std::string::npos);

  callswap::SiteConfig keeping = acme();
  keeping.session.keep_click_ids = true;
  CHECK(callswap::attribute(keeping, "https://acme.example/?gclid=SECRET", "")
            .campaign.click_id_value == "SECRET");
}

TEST_CASE("First touch keeps the earlier source; last touch lets a new one replace it",
          "[attribution]") {
  const callswap::Touch earlier{"organic", {}};
  SECTION("first touch") {
    const auto a = callswap::attribute(acme(), "https://acme.example/?gclid=x", "", earlier);
    CHECK(a.source->id == "organic");
    CHECK(a.kept_earlier_touch);
    CHECK(a.reason == "first touch kept");
  }
  SECTION("last touch") {
    callswap::SiteConfig last = acme();
    last.session.touch = callswap::TouchModel::last_touch;
    CHECK(callswap::attribute(last, "https://acme.example/?gclid=x", "", earlier).source->id ==
          "google-ads");
    // A direct or internal visit never replaces a source.
    CHECK(callswap::attribute(last, "https://acme.example/b", "https://acme.example/a", earlier)
              .source->id == "organic");
    CHECK(callswap::attribute(last, "https://acme.example/b", "", earlier).reason ==
          "earlier touch kept");
  }
  SECTION("a stored source the config no longer has is ignored") {
    const auto a =
        callswap::attribute(acme(), "https://acme.example/", "", callswap::Touch{"gone", {}});
    CHECK(a.source->id == "direct");
    CHECK_FALSE(a.kept_earlier_touch);
  }
}

TEST_CASE("Landing pages are stored as paths with only the named parameters",
          "[attribution][privacy]") {
  const std::vector<std::string_view> keep = {"utm_source", "utm_campaign"};
  CHECK(callswap::url_path_with("https://acme.example/shop/"
                                "chairs?utm_source=google&email=a%40b.c&utm_campaign=spring sale#x",
                                keep) ==
        "/shop/chairs?utm_source=google&utm_campaign=spring%20sale");
  CHECK(callswap::url_path_with("https://acme.example", keep) == "/");
  CHECK(callswap::url_host("HTTPS://User@WWW.Example.COM:8443/x?y") == "www.example.com");
  CHECK(callswap::url_parameter("https://a.example/?a=1&b=2%203", "b") ==
        std::optional<std::string>("2 3"));
}

TEST_CASE("A stored touch reads back as it was written", "[attribution]") {
  const auto a = callswap::attribute(
      acme(), "https://acme.example/?utm_source=google&utm_medium=cpc&gclid=x", "");
  const auto touch = a.touch();
  REQUIRE(touch);
  json::Object stored;
  stored.set("source", touch->source);
  stored.set("campaign", touch->campaign.to_json());
  const auto read = callswap::Touch::from_json(stored);
  REQUIRE(read);
  CHECK(read->source == "google-ads");
  CHECK(read->campaign == touch->campaign);
  CHECK_FALSE(callswap::Touch::from_json(*callswap::json::parse(R"({"campaign": {}})")));
  CHECK(callswap::Campaign::from_json(
            *callswap::json::parse(R"({"utm_source": 5, "utm_medium": "cpc"})"))
            .utm_medium == "cpc");
}
