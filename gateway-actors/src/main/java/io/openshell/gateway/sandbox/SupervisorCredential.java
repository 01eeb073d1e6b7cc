package io.openshell.gateway.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The per-sandbox secret that proves a supervisor speaks for its sandbox. Minted with the sandbox and
 * persisted in its entity (no secret shared between gateway nodes); compared only as SHA-256 digests
 * and in constant time, so neither timing nor a message that crosses nodes gives the secret away.
 */
public final class SupervisorCredential {
  private SupervisorCredential() {}

  /** The gRPC metadata key a supervisor sends its credential in. */
  public static final String METADATA_KEY = "x-sandbox-credential";

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int BYTES = 32;

  /** 32 random bytes, base64url without padding (43 characters). */
  public static String mint() {
    byte[] bytes = new byte[BYTES];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The digest of a presented credential; null when none was presented. */
  public static byte[] digest(String credential) {
    if (credential == null || credential.isEmpty()) return null;
    try {
      return MessageDigest.getInstance("SHA-256").digest(credential.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Constant time for equal-length digests; false when either side is missing. */
  public static boolean matches(byte[] presentedDigest, byte[] expectedDigest) {
    return presentedDigest != null && expectedDigest != null && MessageDigest.isEqual(presentedDigest, expectedDigest);
  }

  /** What a log line may show of a credential: {@code ****} and its last four characters. */
  public static String redact(String credential) {
    if (credential == null || credential.length() <= 4) return "****";
    return "****" + credential.substring(credential.length() - 4);
  }
}
