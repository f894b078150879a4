// callswap: the command-line face of the core, for debugging a site's pages and for tests.
//   callswap scan --country DE --target +49301234567 [--target ...] [FILE|-]
//   callswap swap --country DE --target +49301234567 --to +49309876543 [FILE|-]
//   callswap check-config FILE
//   callswap source --config FILE --url URL [--referrer URL]
//   callswap --version
// Exit codes: 0 done, 1 the input could not be read or is not UTF-8, 2 bad arguments.

#include <callswap/attribution.hpp>
#include <callswap/config.hpp>
#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
#include <callswap/utf8.hpp>
#include <callswap/version.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kInputError = 1;
constexpr int kUsageError = 2;

constexpr const char* kUsage = R"(usage:
  callswap scan --country CC --target E164 [--target E164 ...] [FILE|-]
      print one JSON object per match: {"start","end","text","target","kind","form"[,"extension"]}
      (byte offsets into the UTF-8 input)
  callswap swap --country CC --target E164 --to E164 [--target E164 --to E164 ...] [FILE|-]
      print the input with each target replaced by the --to that follows it, in the page's style
  callswap check-config FILE
      validate a site config: every error with its field and reason, or a one-line summary
  callswap source --config FILE --url URL [--referrer URL]
      print the source a visit is attributed to, and why
  callswap help | --version
CC is the site's default country (ISO 3166 code, e.g. DE, US, GB). Numbers are E.164: +49301234567.
)";

struct Failure {
  int exit_code;
  std::string message;
};

struct Arguments {
  std::string command;
  std::string country;
  std::vector<std::string> targets;
  std::vector<std::optional<std::string>> replacements;  // one per target
  std::string input = "-";
};

std::optional<Failure> parse_arguments(int argc, char** argv, Arguments& args) {
  if (argc < 2)
    return Failure{kUsageError,
                   "missing command (scan, swap, check-config, source); try 'callswap help'"};
  args.command = argv[1];
  if (args.command != "scan" && args.command != "swap") {
    return Failure{kUsageError, "unknown command '" + args.command + "'; try 'callswap help'"};
  }
  bool have_input = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "--country" || arg == "--target" || arg == "--to") {
      auto v = value();
      if (!v) return Failure{kUsageError, arg + " needs a value"};
      if (arg == "--country") {
        args.country = *v;
      } else if (arg == "--target") {
        args.targets.push_back(*v);
        args.replacements.emplace_back();
      } else {
        if (args.command != "swap") return Failure{kUsageError, "--to is only for swap"};
        if (args.targets.empty())
          return Failure{kUsageError, "--to must follow the --target it replaces"};
        if (args.replacements.back())
          return Failure{kUsageError, "two --to for target " + args.targets.back()};
        args.replacements.back() = *v;
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      return Failure{kUsageError, "unknown option '" + arg + "'"};
    } else if (have_input) {
      return Failure{kUsageError, "more than one input file"};
    } else {
      args.input = arg;
      have_input = true;
    }
  }
  if (args.country.empty())
    return Failure{kUsageError, "--country is required (e.g. --country DE)"};
  if (args.targets.empty()) return Failure{kUsageError, "at least one --target is required"};
  if (args.command == "swap") {
    bool any = false;
    for (const auto& r : args.replacements) any = any || r.has_value();
    if (!any) return Failure{kUsageError, "swap needs a --to after a --target"};
  }
  return std::nullopt;
}

std::optional<Failure> read_input(const std::string& path, std::string& text) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) return Failure{kInputError, "cannot read '" + path + "'"};
    buffer << file.rdbuf();
    if (file.bad()) return Failure{kInputError, "error while reading '" + path + "'"};
  }
  text = std::move(buffer).str();
  if (const std::size_t bad = callswap::first_invalid_utf8(text); bad != std::string::npos) {
    return Failure{kInputError, "input is not valid UTF-8 (first bad byte at offset " +
                                    std::to_string(bad) + ")"};
  }
  return std::nullopt;
}

const char* form_name(callswap::NumberForm form) {
  switch (form) {
    case callswap::NumberForm::international:
      return "international";
    case callswap::NumberForm::international_idd:
      return "international_idd";
    case callswap::NumberForm::national:
      return "national";
  }
  return "national";
}

std::optional<callswap::SiteConfig> load_config(const std::string& path, int& exit_code) {
  std::string text;
  if (auto failure = read_input(path, text)) {
    std::cerr << "callswap: " << failure->message << "\n";
    exit_code = failure->exit_code;
    return std::nullopt;
  }
  auto result = callswap::parse_site_config(text);
  if (!result.ok()) {
    for (const auto& error : result.errors) std::cerr << path << ": " << error.to_string() << "\n";
    exit_code = kInputError;
    return std::nullopt;
  }
  return std::move(result.config);
}

int check_config(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "callswap: usage: callswap check-config FILE\n";
    return kUsageError;
  }
  int exit_code = 0;
  auto config = load_config(argv[2], exit_code);
  if (!config) return exit_code;
  std::cout << argv[2] << ": ok: " << callswap::summarize(*config) << "\n";
  return 0;
}

int source(int argc, char** argv) {
  std::string config_path, url, referrer;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string* target = arg == "--config"     ? &config_path
                          : arg == "--url"      ? &url
                          : arg == "--referrer" ? &referrer
                                                : nullptr;
    if (!target) {
      std::cerr << "callswap: unknown option '" << arg << "'\n";
      return kUsageError;
    }
    if (i + 1 >= argc) {
      std::cerr << "callswap: " << arg << " needs a value\n";
      return kUsageError;
    }
    *target = argv[++i];
  }
  if (config_path.empty() || url.empty()) {
    std::cerr << "callswap: usage: callswap source --config FILE --url URL [--referrer URL]\n";
    return kUsageError;
  }
  int exit_code = 0;
  auto config = load_config(config_path, exit_code);
  if (!config) return exit_code;
  const auto attribution = callswap::attribute(*config, url, referrer);
  if (!attribution.source) {
    std::cout << "no source (" << attribution.reason << "): the page keeps its own numbers\n";
    return 0;
  }
  std::cout << "source " << attribution.source->id << " (" << attribution.reason
            << "), static number " << attribution.source->static_number.e164();
  if (!attribution.source->pool.empty())
    std::cout << ", dynamic numbers from pool " << attribution.source->pool;
  std::cout << "\n"
            << "campaign " << attribution.campaign.to_json().dump() << "\n";
  return 0;
}

int run(int argc, char** argv) {
  if (argc >= 2 && (std::string(argv[1]) == "help" || std::string(argv[1]) == "--help")) {
    std::cout << kUsage;
    return 0;
  }
  if (argc >= 2 && std::string(argv[1]) == "--version") {
    std::cout << "callswap " << callswap::kVersion << "\n";
    return 0;
  }
  if (argc >= 2 && std::string(argv[1]) == "check-config") return check_config(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "source") return source(argc, argv);
  Arguments args;
  std::optional<Failure> failure = parse_arguments(argc, argv, args);
  std::optional<callswap::Matcher> matcher;
  std::vector<std::optional<callswap::PhoneNumber>> replacements;
  if (!failure) {
    auto created = callswap::Matcher::create(args.country, args.targets);
    if (!created) {
      failure = Failure{kUsageError, created.error().message};
    } else {
      matcher.emplace(std::move(created).value());
    }
  }
  for (std::size_t i = 0; !failure && i < args.replacements.size(); ++i) {
    replacements.emplace_back();
    if (!args.replacements[i]) continue;
    auto number = callswap::parse_e164(*args.replacements[i]);
    if (!number) {
      failure = Failure{kUsageError, "--to " + number.error().message};
    } else {
      replacements.back() = std::move(number).value();
    }
  }
  std::string text;
  if (!failure) failure = read_input(args.input, text);
  if (failure) {
    std::cerr << "callswap: " << failure->message << "\n";
    return failure->exit_code;
  }

  const std::vector<callswap::Match> matches = matcher->find(text);
  if (args.command == "scan") {
    for (const callswap::Match& m : matches) {
      nlohmann::ordered_json line = {{"start", m.start},
                                     {"end", m.end},
                                     {"text", text.substr(m.start, m.end - m.start)},
                                     {"target", matcher->targets()[m.target].e164()},
                                     {"kind", m.kind == callswap::MatchKind::tel ? "tel" : "text"},
                                     {"form", form_name(m.form)}};
      if (m.has_extension())
        line["extension"] = text.substr(m.end + 1, m.extension_end - m.end - 1);
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  } else {
    const auto edits = callswap::plan_edits(text, matches, *matcher, replacements);
    std::cout << callswap::apply_edits(text, edits);
  }
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "callswap: could not write the output\n";
    return kInputError;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
