package io.openshell.client.connection;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Channels to a gateway over plain grpc-java (no actor system), for the CLI's one-call paths: {@code
 * status} and the ssh-proxy's session minter. https endpoints are verified with the gateway's CA and
 * present the user certificate ({@link GatewayTls}); http endpoints are plaintext.
 */
public final class PlainGrpcChannels {
  private PlainGrpcChannels() {}

  /** {@code endpoint} must be an http:// or https:// URL with a host (callers check and word the error). */
  public static ManagedChannel open(String endpoint, Environment environment) {
    URI uri = URI.create(endpoint);
    boolean tls = "https".equals(uri.getScheme());
    ChannelCredentials credentials = tls ? tlsCredentials(GatewayTls.forEndpoint(endpoint, environment)) : InsecureChannelCredentials.create();
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    return Grpc.newChannelBuilderForAddress(uri.getHost(), port, credentials).build();
  }

  /**
   * The gateway's CA (read by grpc-java from its PEM file) and the user certificate, whose key managers
   * {@link GatewayTls} builds; JDK defaults without files.
   */
  private static ChannelCredentials tlsCredentials(Optional<GatewayTls> files) {
    if (files.isEmpty()) return TlsChannelCredentials.create();
    GatewayTls tls = files.get();
    try {
      TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder().trustManager(tls.ca().toFile());
      if (tls.cert().isPresent() && tls.key().isPresent()) {
        builder.keyManager(tls.keyManagers(read(tls.cert().get()), read(tls.key().get())));
      }
      return builder.build();
    } catch (IOException e) {
      throw new CliException("cannot read the TLS files " + tls + ": " + e.getMessage());
    }
  }

  /** Read as grpc-java reads its PEM files, so that a missing file is reported in the same words. */
  private static byte[] read(Path file) throws IOException {
    try (InputStream in = new FileInputStream(file.toFile())) {
      return in.readAllBytes();
    }
  }
}
