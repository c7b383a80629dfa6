#include "notifiers/email/email_notifier.h"

#include <deque>
#include <mutex>

#include <gtest/gtest.h>

#include "notifiers/email/mime.h"
#include "notifiers/email_test_util.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::ParseMail;
using testing::Utc;

class FakeSmtpSender final : public SmtpSender {
 public:
  std::optional<SmtpFailure> Send(const SmtpMessage& message) override {
    std::lock_guard lock(mu_);
    sent_.push_back(message);
    if (failures_.empty()) {
      return std::nullopt;
    }
    SmtpFailure failure = failures_.front();
    failures_.pop_front();
    return failure;
  }

  void FailNext(SmtpFailure failure) {
    std::lock_guard lock(mu_);
    failures_.push_back(std::move(failure));
  }

  std::vector<SmtpMessage> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<SmtpMessage> sent_;
  std::deque<SmtpFailure> failures_;
};

config::EmailConfig BaseConfig() {
  config::EmailConfig config;
  config.to = "Ops Team <ops@example.com>, dev@example.com";
  config.from = "alertd@example.com";
  config.smarthost = "127.0.0.1:2525";
  config.hello = "alertd.example.com";
  config.auth_username = "alertd";
  config.auth_password = "hunter2-smtp-secret";
  return config;
}

struct Fixture {
  std::shared_ptr<FakeClock> clock =
      std::make_shared<FakeClock>(Utc(2026, 12, 4, 15, 38, 11, 500000000));
  std::shared_ptr<FakeSmtpSender> sender = std::make_shared<FakeSmtpSender>();

  std::unique_ptr<EmailNotifier> Make(config::EmailConfig config = BaseConfig()) {
    EmailNotifierOptions options;
    options.clock = clock;
    options.sender = sender;
    options.hostname = "alertd-host";
    auto notifier = EmailNotifier::Create(std::move(config), options);
    EXPECT_TRUE(notifier.ok()) << notifier.error().message();
    return std::move(notifier).value();
  }
};

Notification FiringNotification() {
  NotifyAlert a;
  a.labels = Labels{{"alertname", "HighLatency"}, {"service", "api"}, {"instance", "a:1"}};
  a.annotations = Labels{{"summary", "Latency high on a"}};
  a.starts_at = Utc(2026, 12, 4, 15, 30, 0);
  a.generator_url = "http://prom:9090/graph";
  NotifyAlert b = a;
  b.labels = Labels{{"alertname", "HighLatency"}, {"service", "api"}, {"instance", "b:1"}};
  return MakeNotification("team",
                          {a, b},
                          Labels{{"alertname", "HighLatency"}},
                          "http://am.example:9093",
                          "{}:{alertname=\"HighLatency\"}");
}

struct CreateErrorCase {
  std::string name;
  std::function<void(config::EmailConfig&)> edit;
  std::string message;
};

class EmailCreateErrorTest : public ::testing::TestWithParam<CreateErrorCase> {};

TEST_P(EmailCreateErrorTest, RejectsConfig) {
  config::EmailConfig config = BaseConfig();
  GetParam().edit(config);
  EmailNotifierOptions options;
  options.sender = std::make_shared<FakeSmtpSender>();
  auto notifier = EmailNotifier::Create(config, options);
  ASSERT_FALSE(notifier.ok());
  EXPECT_EQ(notifier.error().message(), GetParam().message);
  EXPECT_EQ(notifier.error().code(), ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    EmailCreateErrorTest,
    ::testing::Values(
        CreateErrorCase{"EmptyTo",
                        [](auto& c) { c.to.clear(); },
                        "email to is empty: set email_configs[].to to one or more addresses."},
        CreateErrorCase{"EmptyFrom",
                        [](auto& c) { c.from.clear(); },
                        "email from is empty: set email_configs[].from or global.smtp_from."},
        CreateErrorCase{
            "EmptySmarthost",
            [](auto& c) { c.smarthost.clear(); },
            "email smarthost is empty: set email_configs[].smarthost or global.smtp_smarthost."},
        CreateErrorCase{"SmarthostWithoutPort",
                        [](auto& c) { c.smarthost = "smtp.example.com"; },
                        "email smarthost \"smtp.example.com\" is invalid: expected host:port, e.g. "
                        "smtp.example.com:587."},
        CreateErrorCase{"SmarthostPortNotNumeric",
                        [](auto& c) { c.smarthost = "smtp.example.com:smtp"; },
                        "email smarthost \"smtp.example.com:smtp\" is invalid: expected "
                        "host:port, e.g. smtp.example.com:587."},
        CreateErrorCase{"SmarthostPortTooLarge",
                        [](auto& c) { c.smarthost = "smtp.example.com:70000"; },
                        "email smarthost \"smtp.example.com:70000\" is invalid: expected "
                        "host:port, e.g. smtp.example.com:587."},
        CreateErrorCase{"HeaderNameWithSpace",
                        [](auto& c) { c.headers["X Team"] = "ops"; },
                        "email header name \"X Team\" is invalid: use letters, digits and '-', "
                        "as in X-Team."},
        CreateErrorCase{"HeaderNameWithLineBreak",
                        [](auto& c) { c.headers["X-Evil\r\nBcc"] = "a@b"; },
                        "email header name \"X-EvilBcc\" is invalid: use letters, digits and "
                        "'-', as in X-Team."},
        CreateErrorCase{"HeaderSetTwice",
                        [](auto& c) {
                          c.headers["subject"] = "a";
                          c.headers["SUBJECT"] = "b";
                        },
                        "email header \"Subject\" is set twice (names are case-insensitive): "
                        "keep one of them."},
        CreateErrorCase{"CertWithoutKey",
                        [](auto& c) { c.tls_config.cert_file = "client.pem"; },
                        "email tls_config sets only one of cert_file and key_file: set both or "
                        "neither."},
        CreateErrorCase{"HeaderTemplateInvalid",
                        [](auto& c) { c.headers["Subject"] = "{{ .Status "; },
                        "email header \"Subject\" template is invalid: template: header "
                        "\"Subject\":1: unclosed action"},
        CreateErrorCase{"HtmlTemplateInvalid",
                        [](auto& c) { c.html = "{{ end }}"; },
                        "email html template is invalid: template: html:1: unexpected {{end}}"}),
    [](const auto& info) { return info.param.name; });

TEST(EmailNotifierTest, EnvelopeUsesBareAddresses) {
  Fixture f;
  auto message = f.Make()->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  EXPECT_EQ(message->from, "alertd@example.com");
  EXPECT_EQ(message->recipients, (std::vector<std::string>{"ops@example.com", "dev@example.com"}));
}

TEST(EmailNotifierTest, DefaultHeaders) {
  Fixture f;
  auto message = f.Make()->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  EXPECT_EQ(mail.Header("Subject"), "[FIRING:2] HighLatency (api)");
  EXPECT_EQ(mail.Header("To"), "Ops Team <ops@example.com>, dev@example.com");
  EXPECT_EQ(mail.Header("From"), "alertd@example.com");
  EXPECT_EQ(mail.Header("Date"), "Fri, 04 Dec 2026 15:38:11 +0000");
  EXPECT_EQ(mail.Header("MIME-Version"), "1.0");
  EXPECT_EQ(mail.Header("Content-Type"), "multipart/alternative;  boundary=" + mail.boundary);
  EXPECT_EQ(mail.boundary.size(), 60u);
  std::string message_id = mail.Header("Message-Id");
  EXPECT_TRUE(message_id.starts_with("<1796398691500000000.")) << message_id;
  EXPECT_TRUE(message_id.ends_with("@alertd-host>")) << message_id;
  for (const char* name : {"Subject", "To", "From", "Date", "Message-Id", "MIME-Version"}) {
    EXPECT_EQ(mail.Count(name), 1u) << name;
  }
}

TEST(EmailNotifierTest, HtmlOnlyWithoutText) {
  Fixture f;
  auto message = f.Make()->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  ASSERT_EQ(mail.parts.size(), 1u);
  EXPECT_EQ(mail.parts[0].headers["Content-Type"], "text/html; charset=UTF-8");
  EXPECT_EQ(mail.parts[0].headers["Content-Transfer-Encoding"], "quoted-printable");
  std::string html = DecodeQuotedPrintable(mail.parts[0].body);
  EXPECT_NE(html.find("Latency high on a"), std::string::npos) << html;
  EXPECT_NE(html.find("instance = b:1"), std::string::npos) << html;
  EXPECT_EQ(mail.closing, "--" + mail.boundary + "--\r\n");
}

TEST(EmailNotifierTest, TextPartComesBeforeHtml) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.text = "{{ len .Alerts }} alerts, caf\u00e9 = ok";
  config.html = "<b>{{ .Status }}</b>";
  auto message = f.Make(config)->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  ASSERT_EQ(mail.parts.size(), 2u);
  EXPECT_EQ(mail.parts[0].headers["Content-Type"], "text/plain; charset=UTF-8");
  EXPECT_EQ(mail.parts[0].body, "2 alerts, caf=C3=A9 =3D ok");
  EXPECT_EQ(mail.parts[1].headers["Content-Type"], "text/html; charset=UTF-8");
  EXPECT_EQ(mail.parts[1].body, "<b>firing</b>");
}

TEST(EmailNotifierTest, HeaderValuesLoseLineBreaks) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.headers["Subject"] = "{{ .CommonAnnotations.summary }}";
  config.headers["X-Team"] = "ops\r\nBcc: victim@example.com";
  Notification n = FiringNotification();
  n.common_annotations = Labels{{"summary", "line one\nBcc: victim@example.com\r\nline two"}};
  auto message = f.Make(config)->Render(n);
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  EXPECT_EQ(mail.Header("Subject"), "line oneBcc: victim@example.comline two");
  EXPECT_EQ(mail.Header("X-Team"), "opsBcc: victim@example.com");
  EXPECT_EQ(mail.Count("Bcc"), 0u);
}

TEST(EmailNotifierTest, NonAsciiHeaderIsEncodedWord) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.headers["subject"] = "Caf\u00e9 {{ .Status }}";
  auto message = f.Make(config)->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  EXPECT_EQ(mail.Header("Subject"), "=?utf-8?q?Caf=C3=A9_firing?=");
  EXPECT_EQ(DecodeHeaderWords(mail.Header("Subject")), "Caf\u00e9 firing");
}

TEST(EmailNotifierTest, ConfiguredMessageIdIsKept) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.headers["message-id"] = "<fixed@example.com>";
  auto message = f.Make(config)->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  auto mail = ParseMail(message->data);
  EXPECT_EQ(mail.Count("Message-Id"), 1u);
  EXPECT_EQ(mail.Header("Message-Id"), "<fixed@example.com>");
}

TEST(EmailNotifierTest, ToFromTemplates) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.to = "{{ .GroupLabels.alertname }}@example.com";
  config.from = "Alerts <{{ .Receiver }}@example.com>";
  auto message = f.Make(config)->Render(FiringNotification());
  ASSERT_TRUE(message.ok()) << message.error().message();
  EXPECT_EQ(message->from, "team@example.com");
  EXPECT_EQ(message->recipients, std::vector<std::string>{"HighLatency@example.com"});
  auto mail = ParseMail(message->data);
  EXPECT_EQ(mail.Header("To"), "HighLatency@example.com");
  EXPECT_EQ(mail.Header("From"), "Alerts <team@example.com>");
}

struct RenderErrorCase {
  std::string name;
  std::function<void(config::EmailConfig&)> edit;
  std::string message;
};

class EmailRenderErrorTest : public ::testing::TestWithParam<RenderErrorCase> {};

TEST_P(EmailRenderErrorTest, FailsWithoutSending) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  GetParam().edit(config);
  auto notifier = f.Make(config);
  std::optional<NotifyError> error = notifier->Notify(FiringNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, GetParam().message);
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "client");
  EXPECT_TRUE(f.sender->sent().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    EmailRenderErrorTest,
    ::testing::Values(
        RenderErrorCase{"ToExpandsEmpty",
                        [](auto& c) { c.to = "{{ .CommonLabels.team }}"; },
                        "email to is empty after expanding its template: it must give an "
                        "address."},
        RenderErrorCase{"ToWithoutDomain",
                        [](auto& c) { c.to = "ops@example.com, nobody"; },
                        "email to address \"nobody\" is invalid: expected local-part@domain, "
                        "optionally as \"Name <local-part@domain>\"."},
        RenderErrorCase{"ToUnclosedAngle",
                        [](auto& c) { c.to = "Ops <ops@example.com"; },
                        "email to address \"Ops <ops@example.com\" is invalid: a '<' has no "
                        "matching '>' at the end."},
        RenderErrorCase{"TwoSenders",
                        [](auto& c) { c.from = "a@example.com, b@example.com"; },
                        "email from \"a@example.com, b@example.com\" gives more than one "
                        "address: set exactly one sender."},
        RenderErrorCase{"HeaderExecutionFails",
                        [](auto& c) { c.headers["Subject"] = "{{ template \"missing\" . }}"; },
                        // Alertmanager also executes header templates unnamed.
                        "expanding the email header \"Subject\" template failed: template: "
                        ":1:12: executing \"\" at <{{template \"missing\" .}}>: template "
                        "\"missing\" not defined"}),
    [](const auto& info) { return info.param.name; });

struct ClassifyCase {
  std::string name;
  SmtpFailure failure;
  bool retryable;
  std::string reason;
  std::string message;
};

class EmailClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(EmailClassifyTest, ClassifiesFailure) {
  Fixture f;
  auto notifier = f.Make();
  f.sender->FailNext(GetParam().failure);
  std::optional<NotifyError> error = notifier->Notify(FiringNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->retryable, GetParam().retryable);
  EXPECT_EQ(FailureReasonName(error->reason), GetParam().reason);
  EXPECT_EQ(error->message, GetParam().message);
  EXPECT_EQ(error->message.find("hunter2"), std::string::npos);
  EXPECT_EQ(f.sender->sent().size(), 1u);
}

using Kind = SmtpFailure::Kind;

INSTANTIATE_TEST_SUITE_P(
    Cases,
    EmailClassifyTest,
    ::testing::Values(
        ClassifyCase{"ConnectionRefused",
                     {Kind::kConnect, 0, "Failed to connect to 127.0.0.1 port 2525"},
                     true,
                     "transport",
                     "connecting to SMTP server 127.0.0.1:2525 failed: Failed to connect to "
                     "127.0.0.1 port 2525"},
        ClassifyCase{"Timeout",
                     {Kind::kTimeout, 0, "Operation timed out after 500 milliseconds"},
                     true,
                     "timeout",
                     "sending mail through SMTP server 127.0.0.1:2525 timed out: Operation timed "
                     "out after 500 milliseconds"},
        ClassifyCase{"NoStartTls",
                     {Kind::kNoStartTls, 250, "STARTTLS not supported."},
                     false,
                     "client",
                     "'require_tls' is true (default) but \"127.0.0.1:2525\" does not advertise "
                     "the STARTTLS extension: enable STARTTLS on the server or set require_tls: "
                     "false"},
        ClassifyCase{"TlsVerification",
                     {Kind::kTls, 0, "SSL certificate problem: self-signed certificate"},
                     false,
                     "client",
                     "TLS with SMTP server 127.0.0.1:2525 failed: SSL certificate problem: "
                     "self-signed certificate"},
        ClassifyCase{"LoginDenied",
                     {Kind::kAuth, 535, "Login denied"},
                     false,
                     "auth",
                     "authentication as \"alertd\" with SMTP server 127.0.0.1:2525 failed: Login "
                     "denied"},
        ClassifyCase{"TemporaryReply",
                     {Kind::kReply, 451, "RCPT failed: 451"},
                     true,
                     "server",
                     "SMTP server 127.0.0.1:2525 rejected the mail with reply 451: RCPT failed: "
                     "451"},
        ClassifyCase{"PermanentReply",
                     {Kind::kReply, 550, "RCPT failed: 550"},
                     false,
                     "client",
                     "SMTP server 127.0.0.1:2525 rejected the mail with reply 550: RCPT failed: "
                     "550"},
        ClassifyCase{"AuthRequiredReply",
                     {Kind::kReply, 530, "MAIL failed: 530"},
                     false,
                     "auth",
                     "SMTP server 127.0.0.1:2525 rejected the mail with reply 530: MAIL failed: "
                     "530"},
        ClassifyCase{"Other",
                     {Kind::kOther, 0, "Failure when receiving data from the peer"},
                     true,
                     "transport",
                     "sending mail through SMTP server 127.0.0.1:2525 failed: Failure when "
                     "receiving data from the peer"}),
    [](const auto& info) { return info.param.name; });

TEST(EmailNotifierTest, IntegrationNameAndSendResolved) {
  Fixture f;
  config::EmailConfig config = BaseConfig();
  config.send_resolved = true;
  auto notifier = f.Make(config);
  EXPECT_EQ(notifier->integration(), "email");
  EXPECT_TRUE(notifier->send_resolved());
}

TEST(ParseAddressListTest, NamesQuotesAndCommas) {
  auto addresses =
      ParseAddressList("\"Ops, Team\" <ops@example.com>,dev@example.com ,  <x@y.z>", "to");
  ASSERT_TRUE(addresses.ok()) << addresses.error().message();
  EXPECT_EQ(*addresses, (std::vector<std::string>{"ops@example.com", "dev@example.com", "x@y.z"}));
}

TEST(ParseAddressListTest, EmptyEntryIsInvalid) {
  auto addresses = ParseAddressList("ops@example.com,,dev@example.com", "to");
  ASSERT_FALSE(addresses.ok());
  EXPECT_EQ(addresses.error().message(),
            "email to address \"\" is invalid: expected local-part@domain, optionally as \"Name "
            "<local-part@domain>\".");
}

TEST(SplitSmarthostTest, HostAndPort) {
  auto ipv4 = SplitSmarthost("127.0.0.1:25");
  ASSERT_TRUE(ipv4.ok());
  EXPECT_EQ(ipv4->first, "127.0.0.1");
  EXPECT_EQ(ipv4->second, "25");
  auto ipv6 = SplitSmarthost("[::1]:465");
  ASSERT_TRUE(ipv6.ok());
  EXPECT_EQ(ipv6->first, "::1");
  EXPECT_EQ(ipv6->second, "465");
  EXPECT_FALSE(SplitSmarthost("::1:25").ok());
  EXPECT_FALSE(SplitSmarthost(":25").ok());
}

TEST(MimeTest, AsciiHeaderUnchanged) {
  EXPECT_EQ(EncodeHeaderWord("[FIRING:1] Disk = full? _yes_"), "[FIRING:1] Disk = full? _yes_");
  EXPECT_EQ(EncodeHeaderWord("tab\tok"), "tab\tok");
}

TEST(MimeTest, EncodedWordEscapesSpecials) {
  EXPECT_EQ(EncodeHeaderWord("\u00fcber = a?b_c"), "=?utf-8?q?=C3=BCber_=3D_a=3Fb=5Fc?=");
}

TEST(MimeTest, LongHeaderSplitsAtRuneBoundaries) {
  std::string value;
  for (int i = 0; i < 30; ++i) {
    value += "\u00e9";  // two bytes, six encoded characters
  }
  std::string encoded = EncodeHeaderWord(value);
  // 63 characters of content per word hold ten six-character runes.
  std::string word = "=?utf-8?q?";
  for (int i = 0; i < 10; ++i) {
    word += "=C3=A9";
  }
  word += "?=";
  EXPECT_EQ(encoded, word + " " + word + " " + word);
  EXPECT_EQ(DecodeHeaderWords(encoded), value);
}

TEST(MimeTest, QuotedPrintableSoftBreaksAt76) {
  std::string line(100, 'a');
  std::string encoded = EncodeQuotedPrintable(line);
  EXPECT_EQ(encoded, std::string(75, 'a') + "=\r\n" + std::string(25, 'a'));
  EXPECT_EQ(DecodeQuotedPrintable(encoded), line);
}

TEST(MimeTest, QuotedPrintableLineEndsAndTrailingSpace) {
  EXPECT_EQ(EncodeQuotedPrintable("a \nb\r\nc\t"), "a=20\r\nb\r\nc=09");
  EXPECT_EQ(EncodeQuotedPrintable("x=1\x01"), "x=3D1=01");
}

TEST(MimeTest, CanonicalHeaderNames) {
  EXPECT_EQ(CanonicalHeaderName("message-id"), "Message-Id");
  EXPECT_EQ(CanonicalHeaderName("X-SOME-header"), "X-Some-Header");
  EXPECT_EQ(CanonicalHeaderName("bad name"), "");
  EXPECT_EQ(CanonicalHeaderName("bad:name"), "");
  EXPECT_EQ(CanonicalHeaderName(""), "");
}

}  // namespace
}  // namespace alertd
