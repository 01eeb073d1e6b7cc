package io.openshell.gateway.relay;

import static io.openshell.gateway.RandomBytes.randomBytes;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class RelayConnectionTest {

  @Test
  void chunksOverTheStreamRefElementLimitAreCutWithoutLosingOrReorderingBytes() {
    byte[] bytes = randomBytes(4 * 1024 * 1024 + 17, 1);
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
