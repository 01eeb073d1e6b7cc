package io.openshell.supervisor.sshd;

import static org.junit.jupiter.api.Assertions.*;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.junit.jupiter.api.Test;

class NoneAuthenticationTest {
  private static Buffer request(String method) {
    ByteArrayBuffer buffer = new ByteArrayBuffer();
    buffer.putString("sandbox");
    buffer.putString("ssh-connection");
    buffer.putString(method);
    return buffer;
  }

  @Test
  void noneBecomesAnEmptyPasswordForTheSameUserAndService() {
    Buffer rewritten = NoneAuthentication.asEmptyPasswordRequest(request("none"));
    assertEquals("sandbox", rewritten.getString());
    assertEquals("ssh-connection", rewritten.getString());
    assertEquals("password", rewritten.getString());
    assertFalse(rewritten.getBoolean());
    assertEquals("", rewritten.getString());
    assertEquals(0, rewritten.available());
  }

  @Test
  void otherMethodsPassUntouchedAndUnread() {
    Buffer publickey = request("publickey");
    int before = publickey.rpos();
    assertSame(publickey, NoneAuthentication.asEmptyPasswordRequest(publickey));
    assertEquals(before, publickey.rpos());
  }
}
