"""`python -m petitions.personal`: print new keys for PETITIONS_KEK and the blind index."""

from petitions.personal.keys import generate_key

print("# 个人信息密钥 personal-data keys: keep them secret, back them up apart from the database")
print(f"PETITIONS_KEK={generate_key(16)}")
print(f"PETITIONS_BLIND_INDEX_KEY={generate_key(32)}")
