"""One APIRouter per concern; app/main.py includes them all."""
