"""How tables are shown: their numbers formatted once (:mod:`.cells`), laid out as text or as HTML (:mod:`.markup`)
from the same strings, and the DataFrame that prints that way (:mod:`.frame`)."""
