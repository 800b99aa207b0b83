'''odd but valid Python: the reader must lower or mark it unsupported'''
from __future__ import annotations
revision = 'e0e0e0e0e0e6'
down_revision = u'5e5e5e5e0004'
x: int
y = z = 3
big = 123456789012345678901234567890
c = 1j
b = b"bytes\x00"
s = {1, 2, 3}
t = t"template {y}" if False else None
type Alias = list[int]
async def later():
    async with ctx() as a:
        async for q in a:
            await q
@decorator(arg=1)
def upgrade(*, a: int = 1, b: str = "", **kw) -> None:
    global big
    match a:
        case 1:
            pass
        case _:
            pass
    try:
        pass
    except* ValueError:
        pass
    yield from gen()
    print(f"{a!r:>10} {b=}", *[1, 2], sep="")
    return (yield)
def downgrade():
    def inner():
        nonlocal_value = 1
        def deeper():
            nonlocal nonlocal_value
            nonlocal_value += 1
    return {k: v for k, v in {}.items()}, {k for k in ()}, (g for g in [])
