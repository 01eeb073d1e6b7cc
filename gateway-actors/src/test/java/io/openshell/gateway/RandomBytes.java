package io.openshell.gateway;

import java.util.Random;
import org.apache.pekko.util.ByteString;

/** Reproducible random bytes for the gateway's tests: the same size and seed always give the same bytes. */
public final class RandomBytes {
  private RandomBytes() {}

  public static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Seeded with its size, so each size has its own fixed bytes. */
  public static byte[] randomBytes(int size) {
    return randomBytes(size, size);
  }

  public static ByteString randomByteString(int size, long seed) {
    return ByteString.fromArrayUnsafe(randomBytes(size, seed));
  }
}
