package io.openshell.gateway.sandbox;

import io.grpc.Status;
import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Carries a {@link SandboxProblem} between nodes as its status code name and message. Jackson cannot
 * serialize an exception on Java 17 (it reaches into {@code Throwable}'s private fields).
 */
public final class SandboxProblemSerializer extends SerializerWithStringManifest {
  private static final String MANIFEST = "P";

  @Override
  public int identifier() {
    return 731_001;
  }

  @Override
  public String manifest(Object o) {
    return MANIFEST;
  }

  @Override
  public byte[] toBinary(Object o) {
    SandboxProblem problem = (SandboxProblem) o;
    return (problem.code().name() + "\n" + problem.getMessage()).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!MANIFEST.equals(manifest)) throw new NotSerializableException("unknown manifest " + manifest);
    String text = new String(bytes, StandardCharsets.UTF_8);
    int newline = text.indexOf('\n');
    if (newline < 0) throw new NotSerializableException("malformed SandboxProblem");
    return new SandboxProblem(Status.Code.valueOf(text.substring(0, newline)), text.substring(newline + 1));
  }
}
