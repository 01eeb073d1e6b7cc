package io.openshell.client.connection;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.net.URI;
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

  /** The gateway's CA and the user certificate, read by grpc-java from the PEM files; JDK defaults without files. */
  private static ChannelCredentials tlsCredentials(Optional<GatewayTls> files) {
    if (files.isEmpty()) return TlsChannelCredentials.create();
    try {
      TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder().trustManager(files.get().ca().toFile());
      if (files.get().cert().isPresent() && files.get().key().isPresent()) {
        builder.keyManager(files.get().cert().get().toFile(), files.get().key().get().toFile());
      }
      return builder.build();
    } catch (java.io.IOException e) {
      throw new CliException("cannot read the TLS files " + files.get() + ": " + e.getMessage());
    }
  }
}
