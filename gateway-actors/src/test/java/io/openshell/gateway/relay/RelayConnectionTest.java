package io.openshell.gateway.relay;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class RelayConnectionTest {

  @Test
  void chunksOverTheStreamRefElementLimitAreCutWithoutLosingOrReorderingBytes() {
    byte[] bytes = new byte[4 * 1024 * 1024 + 17];
    new Random(1).nextBytes(bytes);
    List<ByteString> parts = RelayConnection.elements(ByteString.fromArray(bytes));
    assertEquals(65, parts.size());
    assertTrue(parts.stream().allMatch(p -> p.size() <= RelayConnection.MAX_ELEMENT_BYTES));
    assertEquals(ByteString.fromArray(bytes), parts.stream().reduce(ByteString.emptyByteString(), ByteString::concat));
  }

  @Test
  void aChunkAtTheLimitIsPassedAsItIs() {
    ByteString exact = ByteString.fromArray(new byte[RelayConnection.MAX_ELEMENT_BYTES]);
    assertSame(exact, RelayConnection.elements(exact).get(0));
    assertEquals(1, RelayConnection.elements(exact).size());
  }
}
