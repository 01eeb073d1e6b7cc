package io.openshell.gateway.tls;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.SslSessionInfo;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.util.ByteString;

/**
 * The one place that decides whether a gRPC call on the main port may reach the service: every
 * user RPC needs a client certificate that chains to the client CA (the TLS handshake already checked
 * that) and is marked as a user certificate, {@code OU=}{@value #USER_UNIT} in its subject. The
 * supervisor RPCs are left to the per-sandbox credential check in the service. HTTP routes
 * ({@code /healthz}, the WebSocket tunnel, authorized by its SSH token) never come here.
 */
public final class UserAuthorization {
  /** The subject organizational unit that marks a user (CLI) certificate. */
  public static final String USER_UNIT = "openshell-user";
  static final String SERVICE_PATH = "/openshell.v1.OpenShell/";
  /** Supervisors call these; they prove their sandbox with its credential, not with a user certificate. */
  static final Set<String> SUPERVISOR_METHODS = Set.of("ConnectSupervisor", "RelayStream", "PushSandboxLogs");

  /** What the check decided: allowed, or the gRPC status code and message the caller gets. */
  public record Verdict(int grpcStatus, String message) {
    static final Verdict ALLOWED = new Verdict(0, "");
    static final int UNAUTHENTICATED = 16;
    static final int PERMISSION_DENIED = 7;

    public boolean allowed() {
      return grpcStatus == 0;
    }
  }

  private UserAuthorization() {}

  /** Pure: the verdict for a call to {@code path} over a connection with this TLS session (empty: plaintext). */
  public static Verdict check(String path, Optional<SSLSession> session) {
    if (!path.startsWith(SERVICE_PATH)) return Verdict.ALLOWED;
    String method = path.substring(SERVICE_PATH.length());
    if (SUPERVISOR_METHODS.contains(method)) return Verdict.ALLOWED;
    Optional<X509Certificate> leaf = session.flatMap(UserAuthorization::peerLeaf);
    if (leaf.isEmpty()) {
      return new Verdict(Verdict.UNAUTHENTICATED, method + " needs a user client certificate and none was presented:"
          + " the CLI uses the local gateway's certificate by itself; for another gateway set OPENSHELL_TLS_CA,"
          + " OPENSHELL_TLS_CERT and OPENSHELL_TLS_KEY to a user certificate (subject OU=" + USER_UNIT + ") that the"
          + " gateway's client CA signed");
    }
    String subject = leaf.get().getSubjectX500Principal().getName();
    if (!units(subject).contains(USER_UNIT)) {
      return new Verdict(Verdict.PERMISSION_DENIED, "certificate '" + subject + "' is not a user certificate (its subject"
          + " has no OU=" + USER_UNIT + "), so it cannot call " + method + "; use a user certificate");
    }
    return Verdict.ALLOWED;
  }

  /** Wraps the gRPC handler: refused calls get a trailers-only gRPC error and never reach the service. */
  public static Function<HttpRequest, CompletionStage<HttpResponse>> guard(Function<HttpRequest, CompletionStage<HttpResponse>> grpc,
      ActorSystem<?> system) {
    return request -> {
      Optional<SSLSession> session = request.getAttribute(AttributeKeys.sslSession).map(SslSessionInfo::getSession);
      Verdict verdict = check(request.getUri().path(), session);
      if (verdict.allowed()) return grpc.apply(request);
      system.log().info("refused {} from {}: grpc status {} ({})", request.getUri().path(),
          request.getAttribute(AttributeKeys.remoteAddress).map(Object::toString).orElse("?"), verdict.grpcStatus(),
          verdict.grpcStatus() == Verdict.UNAUTHENTICATED ? "no client certificate" : "not a user certificate");
      return CompletableFuture.completedFuture(refusal(verdict));
    };
  }

  static HttpResponse refusal(Verdict verdict) {
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .withEntity(HttpEntities.create(ContentTypes.create(MediaTypes.applicationBinary("grpc", MediaTypes.NOT_COMPRESSIBLE)),
            ByteString.emptyByteString()))
        .addHeader(RawHeader.create("grpc-status", Integer.toString(verdict.grpcStatus())))
        .addHeader(RawHeader.create("grpc-message", percentEncoded(verdict.message())));
  }

  /** grpc-message is percent-encoded outside printable ASCII, and '%' itself (gRPC over HTTP/2 spec). */
  private static String percentEncoded(String message) {
    StringBuilder out = new StringBuilder();
    for (byte b : message.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      if (b >= 0x20 && b < 0x7f && b != '%') out.append((char) b);
      else out.append('%').append(String.format("%02X", b & 0xff));
    }
    return out.toString();
  }

  private static Optional<X509Certificate> peerLeaf(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? Optional.of(x509) : Optional.empty();
    } catch (SSLPeerUnverifiedException noCertificate) {
      return Optional.empty();
    }
  }

  private static Set<String> units(String subject) {
    try {
      return new LdapName(subject).getRdns().stream().filter(rdn -> rdn.getType().equalsIgnoreCase("OU"))
          .map(Rdn::getValue).map(String::valueOf).collect(java.util.stream.Collectors.toSet());
    } catch (InvalidNameException e) {
      return Set.of();
    }
  }
}
