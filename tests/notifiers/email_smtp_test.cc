// The email notifier against a real SMTP server: aiosmtpd, started per test on 127.0.0.1.
#include <gtest/gtest.h>

#include "common/local_http_server.h"
#include "notifiers/email/email_notifier.h"
#include "notifiers/email/mime.h"
#include "notifiers/email_smtp_server.h"
#include "notifiers/email_test_util.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::ParseMail;
using testing::SmtpTestServer;

constexpr std::string_view kPassword = "s3cret-smtp-password";

class EmailSmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveAiosmtpd()) {
      GTEST_SKIP() << "/usr/bin/python3 cannot import aiosmtpd; install python3-aiosmtpd";
    }
  }

  // Generates the server certificate, once per test that needs TLS.
  void MakeCert() {
    ASSERT_TRUE(testing::MakeSelfSignedCert(certs_.path())) << "openssl req failed";
  }

  std::string cert() const { return certs_.path() + "/cert.pem"; }

  std::string key() const { return certs_.path() + "/key.pem"; }

  static config::EmailConfig Config(const SmtpTestServer& server) {
    config::EmailConfig config;
    config.to = "\"Ops, Team\" <ops@example.com>, dev@example.com";
    config.from = "Alerts <alertd@example.com>";
    config.smarthost = server.smarthost();
    config.hello = "alertd.test";
    config.require_tls = false;
    return config;
  }

  static std::unique_ptr<EmailNotifier> Make(config::EmailConfig config,
                                             Duration timeout = Duration(10000)) {
    EmailNotifierOptions options;
    options.timeout = timeout;
    auto notifier = EmailNotifier::Create(std::move(config), options);
    EXPECT_TRUE(notifier.ok()) << notifier.error().message();
    return std::move(notifier).value();
  }

  static Notification SomeNotification() {
    NotifyAlert alert;
    alert.labels = Labels{{"alertname", "DiskFull"}, {"instance", "db:9100"}};
    alert.annotations = Labels{{"summary", "Disk almost full\r\nBcc: victim@example.com"},
                               {"description", "Only 2% left on /var (caf\u00e9)"}};
    alert.starts_at = testing::Utc(2026, 12, 4, 15, 0, 0);
    alert.generator_url = "http://prom:9090/graph";
    return MakeNotification(
        "team", {alert}, Labels{{"alertname", "DiskFull"}}, "http://am:9093", "{}:{}");
  }

  testing::TempDir certs_;
};

TEST_F(EmailSmtpTest, DeliversMultipartMail) {
  SmtpTestServer server({});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.headers["Subject"] = "[{{ .Status }}] {{ .CommonAnnotations.summary }} \u26a0";
  config.headers["X-Group"] = "{{ .GroupLabels.alertname }}";
  config.text = "{{ range .Alerts }}{{ .Annotations.description }}{{ end }}";
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto mail = server.WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);

  EXPECT_EQ(mail[0].meta["mail_from"], "alertd@example.com");
  EXPECT_EQ(mail[0].meta["rcpt_tos"], nlohmann::json({"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(mail[0].meta["ehlo"], "alertd.test");
  EXPECT_EQ(mail[0].meta["tls"], false);

  auto parsed = ParseMail(mail[0].data);
  EXPECT_EQ(DecodeHeaderWords(parsed.Header("Subject")),
            "[firing] Disk almost fullBcc: victim@example.com \u26a0");
  EXPECT_TRUE(parsed.Header("Subject").starts_with("=?utf-8?q?")) << parsed.Header("Subject");
  EXPECT_EQ(parsed.Count("Bcc"), 0u);
  EXPECT_EQ(parsed.Header("To"), "\"Ops, Team\" <ops@example.com>, dev@example.com");
  EXPECT_EQ(parsed.Header("From"), "Alerts <alertd@example.com>");
  EXPECT_EQ(parsed.Header("X-Group"), "DiskFull");
  EXPECT_EQ(parsed.Header("MIME-Version"), "1.0");
  EXPECT_FALSE(parsed.Header("Date").empty());
  EXPECT_FALSE(parsed.Header("Message-Id").empty());

  ASSERT_EQ(parsed.parts.size(), 2u);
  EXPECT_EQ(parsed.parts[0].headers["Content-Type"], "text/plain; charset=UTF-8");
  EXPECT_EQ(parsed.parts[0].headers["Content-Transfer-Encoding"], "quoted-printable");
  EXPECT_EQ(DecodeQuotedPrintable(parsed.parts[0].body), "Only 2% left on /var (caf\u00e9)");
  EXPECT_EQ(parsed.parts[1].headers["Content-Type"], "text/html; charset=UTF-8");
  EXPECT_NE(DecodeQuotedPrintable(parsed.parts[1].body).find("instance = db:9100"),
            std::string::npos);
  EXPECT_EQ(parsed.closing, "--" + parsed.boundary + "--\r\n");
}

TEST_F(EmailSmtpTest, StartTlsWithTrustedCertificate) {
  MakeCert();
  SmtpTestServer server({"--starttls-cert", cert(), "--starttls-key", key()});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.require_tls = true;
  config.tls_config.ca_file = cert();
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto mail = server.WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].meta["tls"], true);
}

TEST_F(EmailSmtpTest, StartTlsUsedWhenOffered) {
  MakeCert();
  SmtpTestServer server({"--starttls-cert", cert(), "--starttls-key", key()});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.tls_config.ca_file = cert();
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto mail = server.WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].meta["tls"], true);
}

TEST_F(EmailSmtpTest, UntrustedCertificateFails) {
  MakeCert();
  SmtpTestServer server({"--starttls-cert", cert(), "--starttls-key", key()});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.require_tls = true;
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "client");
  EXPECT_TRUE(
      error->message.starts_with("TLS with SMTP server " + server.smarthost() + " failed: "))
      << error->message;
  EXPECT_TRUE(server.WaitForMail(0).empty());
}

TEST_F(EmailSmtpTest, InsecureSkipVerifySkipsCheck) {
  MakeCert();
  SmtpTestServer server({"--starttls-cert", cert(), "--starttls-key", key()});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.require_tls = true;
  config.tls_config.insecure_skip_verify = true;
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_FALSE(error.has_value()) << error->message;
  EXPECT_EQ(server.WaitForMail(1).size(), 1u);
}

TEST_F(EmailSmtpTest, RequiredStartTlsMissing) {
  SmtpTestServer server({});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.require_tls = true;
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(error->message,
            "'require_tls' is true (default) but \"" + server.smarthost() +
                "\" does not advertise the STARTTLS extension: enable STARTTLS on the server or "
                "set require_tls: false");
  EXPECT_TRUE(server.WaitForMail(0).empty());
}

TEST_F(EmailSmtpTest, ImplicitTlsSender) {
  // Port 465 selects smtps:// in the notifier; binding 465 needs root, so this drives the
  // sender directly on a free port.
  MakeCert();
  SmtpTestServer server({"--starttls-cert", cert(), "--starttls-key", key(), "--smtps"});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  SmtpEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = std::to_string(server.port());
  endpoint.hello = "alertd.test";
  endpoint.implicit_tls = true;
  endpoint.tls.ca_file = cert();
  endpoint.timeout = std::chrono::seconds(10);
  auto sender = MakeCurlSmtpSender(endpoint);
  SmtpMessage message{"a@example.com", {"b@example.com"}, "Subject: hi\r\n\r\nbody\r\n"};

  std::optional<SmtpFailure> failure = sender->Send(message);
  ASSERT_FALSE(failure.has_value()) << failure->message;
  auto mail = server.WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].meta["tls"], true);
  EXPECT_EQ(mail[0].meta["rcpt_tos"], nlohmann::json({"b@example.com"}));
}

TEST_F(EmailSmtpTest, AuthWithPassword) {
  SmtpTestServer server({"--auth", "alertd:" + std::string(kPassword)});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.auth_username = "alertd";
  config.auth_password = std::string(kPassword);
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto mail = server.WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].meta["auth_login"], "alertd");
}

TEST_F(EmailSmtpTest, WrongPasswordIsAuthFailure) {
  SmtpTestServer server({"--auth", "alertd:" + std::string(kPassword)});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  config::EmailConfig config = Config(server);
  config.auth_username = "alertd";
  config.auth_password = "wrong-password-value";
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "auth");
  EXPECT_TRUE(error->message.starts_with("authentication as \"alertd\" with SMTP server " +
                                         server.smarthost() + " failed: "))
      << error->message;
  EXPECT_EQ(error->message.find("wrong-password-value"), std::string::npos) << error->message;
  EXPECT_TRUE(server.WaitForMail(0).empty());
}

TEST_F(EmailSmtpTest, MissingAuthIsRejected) {
  SmtpTestServer server({"--auth", "alertd:" + std::string(kPassword)});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  auto notifier = Make(Config(server));

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "auth");
  EXPECT_TRUE(error->message.starts_with("SMTP server " + server.smarthost() +
                                         " rejected the mail with reply 530: "))
      << error->message;
}

TEST_F(EmailSmtpTest, PermanentRecipientRejection) {
  SmtpTestServer server({"--reject", "dev@example.com=550 5.1.1 no such user"});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  auto notifier = Make(Config(server));

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "client");
  EXPECT_EQ(error->message,
            "SMTP server " + server.smarthost() +
                " rejected the mail with reply 550: RCPT failed: 550: server replied \"550 5.1.1 "
                "no such user\"");
  EXPECT_TRUE(server.WaitForMail(0).empty());
}

TEST_F(EmailSmtpTest, TemporaryRecipientRejection) {
  SmtpTestServer server({"--reject", "ops@example.com=451 4.3.0 try again later"});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  auto notifier = Make(Config(server));

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "server");
  EXPECT_EQ(error->message,
            "SMTP server " + server.smarthost() +
                " rejected the mail with reply 451: RCPT failed: 451: server replied \"451 4.3.0 "
                "try again later\"");
}

TEST_F(EmailSmtpTest, ConnectionRefused) {
  config::EmailConfig config;
  config.to = "ops@example.com";
  config.from = "alertd@example.com";
  config.smarthost = "127.0.0.1:" + std::to_string(testing::ClosedLocalPort());
  config.require_tls = false;
  config.auth_username = "alertd";
  config.auth_password = std::string(kPassword);
  auto notifier = Make(config);

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "transport");
  EXPECT_TRUE(
      error->message.starts_with("connecting to SMTP server " + config.smarthost + " failed: "))
      << error->message;
  EXPECT_EQ(error->message.find(kPassword), std::string::npos);
}

TEST_F(EmailSmtpTest, SlowServerTimesOut) {
  SmtpTestServer server({"--data-delay", "5"});
  ASSERT_NE(server.port(), 0) << "the SMTP server did not start";
  auto notifier = Make(Config(server), Duration(700));

  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "timeout");
  EXPECT_TRUE(error->message.starts_with("sending mail through SMTP server " + server.smarthost() +
                                         " timed out: "))
      << error->message;
}

}  // namespace
}  // namespace alertd
