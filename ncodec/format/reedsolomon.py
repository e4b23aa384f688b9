"""Reed-Solomon over GF(2^8), systematic, for the header of robust .ncz files.

Field polynomial x^8+x^4+x^3+x^2+1 (0x11d), generator alpha = 2, first consecutive
root alpha^0: the common "RS(255, k)" of QR codes and CDs, shortened to any length.
``rs_encode`` appends 2t parity bytes; ``rs_decode`` corrects up to t byte errors
(Berlekamp-Massey, Chien search, Forney) and raises ``ReedSolomonError`` when it
cannot. Pure Python: headers are tens of bytes.
"""

from __future__ import annotations

_PRIM = 0x11D
_EXP = [0] * 512
_LOG = [0] * 256


def _init_tables() -> None:
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= _PRIM
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


_init_tables()


class ReedSolomonError(ValueError):
    """Too many errors to correct."""


def _mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("GF(256) division by zero")
    return 0 if a == 0 else _EXP[(_LOG[a] - _LOG[b]) % 255]


def _poly_mul(p: list[int], q: list[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] ^= _mul(a, b)
    return out


def _poly_eval(p: list[int], x: int) -> int:
    """Horner's rule; ``p`` has its highest-degree coefficient first."""
    y = 0
    for c in p:
        y = _mul(y, x) ^ c
    return y


def _generator(nsym: int) -> list[int]:
    g = [1]
    for i in range(nsym):
        g = _poly_mul(g, [1, _EXP[i]])
    return g


def rs_encode(message: bytes, nsym: int) -> bytes:
    """``message`` followed by ``nsym`` parity bytes; total length must stay <= 255."""
    if len(message) + nsym > 255:
        raise ValueError("Reed-Solomon codeword longer than 255 bytes")
    gen = _generator(nsym)
    remainder = list(message) + [0] * nsym
    for i in range(len(message)):
        coef = remainder[i]
        if coef:
            for j in range(1, len(gen)):
                remainder[i + j] ^= _mul(gen[j], coef)
    return bytes(message) + bytes(remainder[len(message) :])


def _syndromes(codeword: list[int], nsym: int) -> list[int]:
    """S_0 .. S_{nsym-1}, with a leading 0 that keeps the index arithmetic below simple."""
    return [0] + [_poly_eval(codeword, _EXP[i]) for i in range(nsym)]


def rs_decode(codeword: bytes, nsym: int) -> bytes:
    """Correct up to ``nsym // 2`` byte errors and return the message part."""
    msg = list(codeword)
    if len(msg) <= nsym:
        raise ReedSolomonError("codeword shorter than its parity")
    synd = _syndromes(msg, nsym)
    if not any(synd):
        return bytes(msg[:-nsym])
    locator = _error_locator(synd, nsym)
    positions = _error_positions(locator[::-1], len(msg))
    _correct(msg, synd, positions)
    if any(_syndromes(msg, nsym)):
        raise ReedSolomonError("correction failed")
    return bytes(msg[:-nsym])


def _scale(p: list[int], x: int) -> list[int]:
    return [_mul(c, x) for c in p]


def _poly_add(p: list[int], q: list[int]) -> list[int]:
    out = [0] * max(len(p), len(q))
    for i, c in enumerate(p):
        out[i + len(out) - len(p)] = c
    for i, c in enumerate(q):
        out[i + len(out) - len(q)] ^= c
    return out


def _error_locator(synd: list[int], nsym: int) -> list[int]:
    """Berlekamp-Massey: the error locator polynomial, highest-degree coefficient first."""
    err, old = [1], [1]
    shift = len(synd) - nsym
    for i in range(nsym):
        k = i + shift
        delta = synd[k]
        for j in range(1, len(err)):
            delta ^= _mul(err[-(j + 1)], synd[k - j])
        old = [*old, 0]
        if delta:
            if len(old) > len(err):
                new = _scale(old, delta)
                old = _scale(err, _div(1, delta))
                err = new
            err = _poly_add(err, _scale(old, delta))
    while err and err[0] == 0:
        err = err[1:]
    if 2 * (len(err) - 1) > nsym:
        raise ReedSolomonError("too many errors to correct")
    return err


def _error_positions(locator_reversed: list[int], n: int) -> list[int]:
    """Chien search: byte positions whose inverse locator evaluates to zero."""
    positions = [n - 1 - i for i in range(n) if _poly_eval(locator_reversed, _EXP[i]) == 0]
    if len(positions) != len(locator_reversed) - 1:
        raise ReedSolomonError("error locator has no consistent roots")
    return positions


def _poly_mod(dividend: list[int], divisor: list[int]) -> list[int]:
    out = list(dividend)
    for i in range(len(dividend) - len(divisor) + 1):
        coef = out[i]
        if coef:
            for j in range(1, len(divisor)):
                out[i + j] ^= _mul(divisor[j], coef)
    return out[-(len(divisor) - 1) :]


def _correct(msg: list[int], synd: list[int], positions: list[int]) -> None:
    """Forney: error magnitudes at known positions, fixed in place."""
    coef_pos = [len(msg) - 1 - p for p in positions]
    locator = [1]
    for c in coef_pos:
        locator = _poly_mul(locator, [_EXP[c], 1])
    evaluator = _poly_mod(_poly_mul(synd[::-1], locator), [1] + [0] * len(locator))[::-1]
    xs = [_EXP[c] for c in coef_pos]
    for i, xi in enumerate(xs):
        xi_inv = _div(1, xi)
        denom = 1
        for j, xj in enumerate(xs):
            if j != i:
                denom = _mul(denom, 1 ^ _mul(xi_inv, xj))
        if denom == 0:
            raise ReedSolomonError("Forney: zero denominator")
        y = _mul(xi, _poly_eval(evaluator[::-1], xi_inv))
        msg[positions[i]] ^= _div(y, denom)
